package zitadeltelemetry

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/audittrail"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// TestAuditTrailFromTheAPI reads the trail through ListEvents: a password
// login through the Session API, a failed check and the lockout it led to.
func TestAuditTrailFromTheAPI(t *testing.T) {
	srv := startFakeZitadel(t)
	in := srv.Dataset().Instances[0]
	org := in.Orgs[0]
	srv.Write(in.ID, time.Now().Add(-time.Minute), func(w *fakezitadel.Writer) {
		w.Login(fakezitadel.Login{UserID: "312000000000000501", Org: org, ClientID: "app-web", AuthMethods: []int{fakezitadel.AuthPassword}})
		w.CheckPassword(org, "312000000000000501", false)
		w.Lock(org, "312000000000000501")
	})
	cfg := apiReceiverConfig(srv)
	cfg.AuditLog.Lookback = time.Hour
	cfg.AuditLog.PollInterval = time.Second
	cfg.AuditLog.AggregateTypes.Include = []string{"session", "user", "oidc_session"}
	cfg.AuditLog.Payload = map[string][]string{"oidc_session.added": {"clientID", "authMethods"}}
	require.NoError(t, confmap.Validate(cfg))

	sink := new(consumertest.LogsSink)
	rcv := startLogs(t, cfg, componenttest.NewNopHost(), sink)
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	// session.added, session.user.checked, session.password.checked, the
	// succeeded check, oidc_session.added; the failed check; user.locked.
	require.Eventually(t, func() bool { return sink.LogRecordCount() >= 7 }, 10*time.Second, 10*time.Millisecond)
	got := records(sink)
	assert.Len(t, got["user.locked"], 1)
	assert.Equal(t, "WARN", got["user.human.password.check.failed"][0].SeverityText())
	login := got["oidc_session.added"][0].Attributes()
	client, _ := login.Get(audittrail.AttrPayloadPrefix + "clientID")
	assert.Equal(t, "app-web", client.Str())
	methods, _ := login.Get(audittrail.AttrPayloadPrefix + "authMethods")
	assert.Equal(t, []any{int64(fakezitadel.AuthPassword)}, methods.Slice().AsRaw())
	_, hasPosition := login.Get(audittrail.AttrPosition)
	assert.False(t, hasPosition, "ListEvents returns no position")
	text := marshalLogs(t, sink)
	for _, personal := range []string{"203.0.113.7", "Mozilla", "userAgent", "fp-1"} {
		assert.NotContains(t, text, personal)
	}
	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, 7, sink.LogRecordCount(), "a poll reads nothing twice")
}
