package health

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/component/componenttest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

func TestReport(t *testing.T) {
	host := &testkit.StatusHost{}
	failure := errors.New("ZITADEL unreachable")
	Report(host, failure)
	Report(host, nil)
	assert.Equal(t, []componentstatus.Status{componentstatus.StatusRecoverableError, componentstatus.StatusOK}, host.Statuses())
	assert.Equal(t, failure, host.Events()[0].Err())

	Report(nil, failure) // no host: nothing to tell
	Report(componenttest.NewNopHost(), failure)
}
