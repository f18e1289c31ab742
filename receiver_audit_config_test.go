package zitadeltelemetry

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/audittrail"
)

func TestReceiverAuditLogConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "receiver", "audit_log.yaml"))
	require.NoError(t, err)

	narrowed := createDefaultReceiverConfig().(*ReceiverConfig)
	narrowed.API.Endpoint = "zitadel.example.com:443"
	narrowed.API.TokenFile = "/run/secrets/zitadel-pat"
	storage := component.MustNewIDWithName("file_storage", "zitadel")
	narrowed.AuditLog = audittrail.Config{
		Lookback: 168 * time.Hour,
		Storage:  &storage,
		EventTypes: audittrail.Patterns{
			Include: []string{"user.human.password.check.*", "user.locked", "oidc_session.added", "org.*"},
			Exclude: []string{"*.succeeded"},
		},
		AggregateTypes: audittrail.Patterns{Exclude: []string{"instance"}},
		Payload:        map[string][]string{"oidc_session.added": {"clientID", "authMethods"}},
		IDHashKey:      "0123456789abcdef0123456789abcdef",
		PageSize:       500,
		PollInterval:   30 * time.Second,
	}
	runReceiverConfigCases(t, cm, []receiverConfigCase{
		{key: "narrowed", want: narrowed},
		{key: "lookback_without_unit", errs: []string{
			"audit_log::lookback: 24 is 24 nanoseconds, a number without a unit; write the unit",
		}},
		{key: "payload_of_every_user_event", errs: []string{
			"audit_log::payload::user.*: event type holds '*'; name one exactly",
			"audit_log::payload::user.human.added: no field named",
			`audit_log::event_types::include[0]: "user.[" is not a glob pattern`,
			"audit_log::page_size: 20000 is out of range; use 1 to 10000",
			"audit_log::id_hash_key: 9 bytes is too short",
		}},
	})
}
