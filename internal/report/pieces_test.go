package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

func TestPiecesAreTakenOnlyWithinTheWindow(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	now := testkit.Observed
	p := NewPieceDetector(func() time.Time { return now }, zap.New(core))
	whole := built(t, "sys", 1, 4, model.ResourceUser)
	users := built(t, "sys", 1, 2, model.ResourceUser)
	projects := built(t, "sys", 1, 2, model.ResourceProject)

	p.Observe(whole)
	now = now.Add(time.Second)
	p.Observe(whole) // a retry of the same batch
	now = now.Add(time.Minute)
	p.Observe(users) // the next scrape, other rows, but long after
	assert.Zero(t, logs.Len())

	now = now.Add(pieceWindow)
	p.Observe(projects) // another receiver, just within the window
	assert.Equal(t, 1, logs.Len())
	now = now.Add(time.Second)
	p.Observe(users)
	assert.Equal(t, 1, logs.Len(), "said once")
}

// built maps a batch of the contract with every domain sent.
func built(t *testing.T, systemID string, instances, orgs int, resources ...string) []*System {
	t.Helper()
	b := NewBuilder("", "", true, nil)
	r := b.Build(testkit.ContractMetrics(systemID, instances, orgs, resources...))
	require.Empty(t, r.Errors())
	return r.Systems()
}
