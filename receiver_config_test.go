package zitadeltelemetry

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
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
			// Some refusals come while decoding, the rest from validation.
			if err = sub.Unmarshal(cfg); err == nil {
				err = confmap.Validate(cfg)
			}
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

func TestReceiverConfigRefusesWhatCannotWork(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "receiver", "config.yaml"))
	require.NoError(t, err)

	atMinimum := createDefaultReceiverConfig().(*ReceiverConfig)
	atMinimum.CollectionInterval = time.Minute
	atMinimum.API.Endpoint = "zitadel.example.com:443"
	atMinimum.API.TokenFile = "/run/secrets/zitadel-pat"

	known := "known names: " + strings.Join(model.Resources, ", ")
	runReceiverConfigCases(t, cm, []receiverConfigCase{
		{key: "typo_in_resources", errs: []string{
			`resources[0]: "usres" is not a resource name; ` + known,
			`resources[1]: "User" is not a resource name`,
			`resources[2]: "user " is not a resource name`,
		}},
		{key: "interval_without_unit", errs: []string{
			"collection_interval: 5 is 5 nanoseconds, a number without a unit; write the unit, e.g. 5s",
		}},
		{key: "interval_below_minimum", errs: []string{"collection_interval: 30s is below the minimum of 1m0s"}},
		{key: "interval_at_minimum", want: atMinimum},
		{key: "system_id_and_version_the_exporter_cannot_send", errs: []string{
			`system_id: is not an id: byte 3 is '@'`,
			"version: is not a version: byte 7 is a space",
		}},
		{key: "fractional_numbers", errs: []string{
			"api::page_size: 100.5 is not a whole number",
			"api::max_concurrency: 2.5 is not a whole number",
			"database::page_size: 0.5 is not a whole number",
		}},
		{key: "dsn_with_unknown_sslmode", errs: []string{"database: dsn: sslmode is invalid"}},
		{key: "dsn_that_is_no_dsn", errs: []string{"database: dsn: invalid keyword/value"}},
		{key: "dsn_port_out_of_range", errs: []string{"database: dsn: invalid port"}},
	})
}

// Every resource name a source records is one the resources key accepts.
func TestKnownResourcesAreTheModelsNames(t *testing.T) {
	for _, r := range model.Resources {
		cfg := createDefaultReceiverConfig().(*ReceiverConfig)
		cfg.API.Endpoint, cfg.API.TokenFile = "zitadel.example.com:443", "/pat"
		cfg.Resources = []string{r}
		assert.NoError(t, confmap.Validate(cfg), r)
		assert.Empty(t, fieldshape.CheckResourceName(r), "the exporter sends %s", r)
	}
}

// Every integer key is checked, the collector's own blocks included; a
// duration is not an integer key.
func TestIntegerKeysComeFromTheConfigTypes(t *testing.T) {
	assert.Subset(t, receiverRawKeys.WholeNumbers(), []string{
		"api::page_size", "api::max_concurrency", "api::retry::max_retries",
		"database::max_conns", "database::page_size",
	})
	assert.Subset(t, exporterRawKeys.WholeNumbers(), []string{
		"bulk_size", "sending_queue::queue_size", "sending_queue::num_consumers",
		"sending_queue::batch::min_size", "sending_queue::batch::max_size", "http::write_buffer_size", "grpc::write_buffer_size",
	})
	for _, keys := range [][]string{receiverRawKeys.WholeNumbers(), exporterRawKeys.WholeNumbers()} {
		assert.NotContains(t, keys, "collection_interval")
		assert.NotContains(t, keys, "timeout")
	}
}
