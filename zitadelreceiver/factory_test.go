package zitadelreceiver

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/otelcol-zitadel/zitadeltelemetry/zitadelreceiver/internal/metadata"
)

// The root package cannot import the generated metadata (Go's internal
// rule): the factory's stability per signal is held to metadata.yaml here.
func TestFactoryStabilityIsTheMetadatas(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, metadata.Type, f.Type())
	assert.Equal(t, metadata.MetricsStability, f.MetricsStability())
	assert.Equal(t, metadata.LogsStability, f.LogsStability())
}
