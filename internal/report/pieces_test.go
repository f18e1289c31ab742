package zitadeltelemetry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

func TestPiecesAreTakenOnlyWithinTheWindow(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	now := observed
	p := newPieceDetector(func() time.Time { return now }, zap.New(core))
	whole := built(t, "sys", 1, 4, model.ResourceUser)
	users := built(t, "sys", 1, 2, model.ResourceUser)
	projects := built(t, "sys", 1, 2, model.ResourceProject)

	p.observe(whole)
	now = now.Add(time.Second)
	p.observe(whole) // a retry of the same batch
	now = now.Add(time.Minute)
	p.observe(users) // the next scrape, other rows, but long after
	assert.Zero(t, logs.Len())

	now = now.Add(pieceWindow)
	p.observe(projects) // another receiver, just within the window
	assert.Equal(t, 1, logs.Len())
	now = now.Add(time.Second)
	p.observe(users)
	assert.Equal(t, 1, logs.Len(), "said once")
}
