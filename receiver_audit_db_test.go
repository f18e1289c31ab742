package zitadeltelemetry

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/audittrail"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/sharedsource"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

const auditInstance = "312000000000000001"

// signUpAndLockOut pushes what ZITADEL writes when a user signs up, fails a
// password check, is locked out and, unlocked, logs in.
func signUpAndLockOut(t *testing.T, d *zitadeldbtest.DB, user string) {
	t.Helper()
	org := "312000000000000011"
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: auditInstance, AggregateType: "user", AggregateID: user, Type: "user.human.added",
		Owner: org, Creator: user, Payload: `{"userName":"ada@example.com","email":"ada@example.com","encodedHash":"$2a$14$secret"}`,
	})
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: auditInstance, AggregateType: "user", AggregateID: user,
		Type: "user.human.password.check.failed", Owner: org, Creator: user, Payload: `{}`,
	})
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: auditInstance, AggregateType: "user", AggregateID: user, Type: "user.locked",
		Owner: org, Creator: user,
	})
	d.PushNow(t, zitadeldbtest.Event{
		InstanceID: auditInstance, AggregateType: "oidc_session", AggregateID: "V2_" + user,
		Type: "oidc_session.added", Owner: org,
		Payload: `{"userID":"` + user + `","clientID":"app-web","userAgent":{"ip":"192.0.2.1"}}`,
	})
}

func auditConfig(d *zitadeldbtest.DB) *ReceiverConfig {
	cfg := dbReceiverConfig(d)
	cfg.AuditLog.Payload = map[string][]string{"oidc_session.added": {"clientID"}}
	cfg.AuditLog.PollInterval = time.Second
	return cfg
}

// auditSettings names the receiver as the collector does, the same id at
// every start (receivertest's settings make a new one each time).
func auditSettings() receiver.Settings {
	set := receivertest.NewNopSettings(ReceiverType)
	set.ID = component.NewID(ReceiverType)
	return set
}

func startLogs(t *testing.T, cfg *ReceiverConfig, host component.Host, sink *consumertest.LogsSink) component.Component {
	t.Helper()
	rcv, err := NewReceiverFactory().CreateLogs(t.Context(), auditSettings(), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), host))
	return rcv
}

// records lists the records a sink got, by event type.
func records(sink *consumertest.LogsSink) map[string][]plog.LogRecord {
	out := map[string][]plog.LogRecord{}
	for _, ld := range sink.AllLogs() {
		for _, rl := range ld.ResourceLogs().All() {
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					out[lr.EventName()] = append(out[lr.EventName()], lr)
				}
			}
		}
	}
	return out
}

func TestAuditTrailFromTheDatabase(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, auditInstance, time.Now().Add(-time.Hour), "acme.example.com")
	signUpAndLockOut(t, d, "312000000000000501")
	cfg := auditConfig(d)
	require.NoError(t, confmap.Validate(cfg))

	// One receiver id in a metrics and a logs pipeline: one source.
	metrics, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	sink := new(consumertest.LogsSink)
	logs := startLogs(t, cfg, componenttest.NewNopHost(), sink)
	require.NoError(t, metrics.Start(t.Context(), componenttest.NewNopHost()))
	held, running := sharedsource.Held(cfg)
	require.True(t, held)
	assert.Equal(t, 2, running, "both pipelines run on one source")

	require.Eventually(t, func() bool { return sink.LogRecordCount() == 4 }, 10*time.Second, 10*time.Millisecond)
	got := records(sink)
	require.Len(t, got["user.locked"], 1)
	assert.Equal(t, "WARN", got["user.locked"][0].SeverityText())
	assert.Equal(t, "WARN", got["user.human.password.check.failed"][0].SeverityText())
	assert.Equal(t, "INFO", got["user.human.added"][0].SeverityText())
	login := got["oidc_session.added"][0].Attributes()
	client, _ := login.Get(audittrail.AttrPayloadPrefix + "clientID")
	assert.Equal(t, "app-web", client.Str())
	_, hasUser := login.Get(audittrail.AttrPayloadPrefix + "userID")
	assert.False(t, hasUser, "a field not named is not emitted")
	pos, ok := login.Get(audittrail.AttrPosition)
	assert.True(t, ok && pos.Str() != "", "the database source knows the position")
	text := marshalLogs(t, sink)
	for _, personal := range []string{"ada@example.com", "$2a$14$secret", "192.0.2.1", "encodedHash"} {
		assert.NotContains(t, text, personal)
	}

	require.NoError(t, logs.Shutdown(context.Background()))
	_, running = sharedsource.Held(cfg)
	assert.Equal(t, 1, running, "the metrics pipeline still runs")
	require.NoError(t, metrics.Shutdown(context.Background()))
	held, _ = sharedsource.Held(cfg)
	assert.False(t, held, "the last shutdown closes the shared source")
}

// The audit trail through README's view of every event, with its grants:
// every event type arrives, and the role can read neither a password hash,
// an e-mail address nor an IP address.
func TestAuditTrailThroughTheAuditView(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.Exec(t, zitadeldb.AuditEventsView())
	d.AddInstance(t, auditInstance, time.Now().Add(-time.Hour), "acme.example.com")
	signUpAndLockOut(t, d, "312000000000000501")
	role := d.CreateRole(t)
	d.Grant(t, role, zitadeldbtest.AuditViewReaderGrants...)
	pc, err := pgx.ParseConfig(d.DSN)
	require.NoError(t, err)

	cfg := auditConfig(d)
	cfg.Database.DSN = ""
	cfg.Database.Endpoint = pc.Host + ":" + strconv.Itoa(int(pc.Port))
	cfg.Database.Database, cfg.Database.Username = d.Name, role.Name
	cfg.Database.Password = configopaque.String(role.Password)
	cfg.Database.TLS.Mode = "disable"
	cfg.Database.EventsTable = zitadeldb.AuditEventsViewName
	require.NoError(t, confmap.Validate(cfg))
	sink := new(consumertest.LogsSink)
	logs := startLogs(t, cfg, componenttest.NewNopHost(), sink)
	t.Cleanup(func() { require.NoError(t, logs.Shutdown(context.Background())) })

	require.Eventually(t, func() bool { return sink.LogRecordCount() == 4 }, 10*time.Second, 10*time.Millisecond)
	got := records(sink)
	for _, typ := range []string{"user.human.added", "user.human.password.check.failed", "user.locked", "oidc_session.added"} {
		assert.Len(t, got[typ], 1, typ)
	}
	client, _ := got["oidc_session.added"][0].Attributes().Get(audittrail.AttrPayloadPrefix + "clientID")
	assert.Equal(t, "app-web", client.Str(), "a field the view keeps and the configuration names")
}

// With events_table empty the database source reads no events: a logs
// pipeline refuses to start and names the key, instead of pausing forever.
func TestAuditTrailWithoutAnEventsTableDoesNotStart(t *testing.T) {
	cfg := createDefaultReceiverConfig().(*ReceiverConfig)
	cfg.Source = SourceDatabase
	cfg.Database.DSN = "postgres://nobody@127.0.0.1:1/zitadel"
	cfg.Database.EventsTable = ""
	cfg.SystemID = "312000000000000000"
	// The same receiver id in a metrics pipeline, started first: its source
	// opens connections at the first scrape, so it starts without one.
	metrics, err := NewReceiverFactory().CreateMetrics(t.Context(), auditSettings(), cfg, new(consumertest.MetricsSink))
	require.NoError(t, err)
	require.NoError(t, metrics.Start(t.Context(), componenttest.NewNopHost()))
	rcv, err := NewReceiverFactory().CreateLogs(t.Context(), auditSettings(), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	err = rcv.Start(t.Context(), componenttest.NewNopHost())
	require.ErrorContains(t, err, "database::events_table")
	require.NoError(t, rcv.Shutdown(context.Background()))
	_, running := sharedsource.Held(cfg)
	assert.Equal(t, 1, running, "the logs receiver that did not start leaves the metrics pipeline's source running")
	require.NoError(t, metrics.Shutdown(context.Background()))
}

func marshalLogs(t *testing.T, sink *consumertest.LogsSink) string {
	t.Helper()
	var text []byte
	for _, ld := range sink.AllLogs() {
		b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
		require.NoError(t, err)
		text = append(text, b...)
	}
	return string(text)
}

func TestAuditTrailContinuesAfterARestart(t *testing.T) {
	d := zitadeldbtest.New(t)
	d.AddInstance(t, auditInstance, time.Now().Add(-time.Hour), "acme.example.com")
	signUpAndLockOut(t, d, "312000000000000501")
	id, ext := startFileStorage(t, t.TempDir())
	host := testkit.ExtensionsHost{id: ext}
	cfg := auditConfig(d)
	cfg.AuditLog.Storage = &id

	sink := new(consumertest.LogsSink)
	first := startLogs(t, cfg, host, sink)
	require.Eventually(t, func() bool { return sink.LogRecordCount() == 4 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, first.Shutdown(context.Background()))

	// While the collector is down, another user signs up and is locked out.
	signUpAndLockOut(t, d, "312000000000000502")
	second := startLogs(t, cfg, host, sink)
	t.Cleanup(func() { require.NoError(t, second.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return sink.LogRecordCount() >= 8 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // a poll more: nothing else comes
	assert.Equal(t, 8, sink.LogRecordCount(), "the restart repeats nothing and loses nothing")
}

func TestAuditTrailStorageMustBeConfigured(t *testing.T) {
	d := zitadeldbtest.New(t)
	cfg := auditConfig(d)
	missing := component.MustNewID("file_storage")
	cfg.AuditLog.Storage = &missing
	rcv, err := NewReceiverFactory().CreateLogs(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	err = rcv.Start(t.Context(), componenttest.NewNopHost())
	require.EqualError(t, err, `audit_log::storage: extension "file_storage" is not configured; add it under extensions and service::extensions`)
	require.NoError(t, rcv.Shutdown(context.Background()))
}
