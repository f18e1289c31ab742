package zitadeltelemetry

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

// receiverConfigCase is one named sub-config of a receiver testdata file:
// either the config it must load as, or the errors its validation must name.
type receiverConfigCase struct {
	key  string
	want *ReceiverConfig
	errs []string
}

func runReceiverConfigCases(t *testing.T, cm *confmap.Conf, tests []receiverConfigCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			sub, err := cm.Sub(tt.key)
			require.NoError(t, err)
			cfg := createDefaultReceiverConfig().(*ReceiverConfig)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.errs == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.want, cfg)
				return
			}
			require.Error(t, err)
			for _, e := range tt.errs {
				assert.ErrorContains(t, err, e)
			}
		})
	}
}
