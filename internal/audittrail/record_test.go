package audittrail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/plogtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

const testInstance = "312909075211944344"

var (
	testCreated  = time.Date(2026, 11, 30, 9, 15, 0, 123456000, time.UTC)
	testObserved = time.Date(2026, 11, 30, 9, 15, 2, 0, time.UTC)
)

// loginEvents are the events of a password login through the Session API
// and an OIDC code flow, a failed check, a lockout and a user's creation, with
// the payloads ZITADEL v4 writes (the personal values made up).
func loginEvents() []zitadelevent.Event {
	at := func(ms int) time.Time { return testCreated.Add(time.Duration(ms) * time.Millisecond) }
	return []zitadelevent.Event{
		{
			InstanceID: testInstance, AggregateType: "user", AggregateID: "312909075212010000", Sequence: 1, Type: "user.human.added",
			CreatedAt: at(0), Owner: "312909075211977000", Creator: "312909075211911111",
			Payload: []byte(`{"userName":"ada@example.com","firstName":"Ada","lastName":"Lovelace","displayName":"Ada Lovelace",` +
				`"email":"ada@example.com","preferredLanguage":"en","encodedHash":"$2a$14$9fTJkqYJQqvS7Uj0cVbZ3eJX0n6sH8"}`),
		},
		{
			InstanceID: testInstance, AggregateType: "session", AggregateID: "312909100000000001", Sequence: 2, Type: "session.user.checked",
			CreatedAt: at(10), Owner: testInstance, Creator: "312909075211922222", Position: "1796030100.133456",
			Payload: []byte(`{"userID":"312909075212010000","userResourceOwner":"312909075211977000","checkedAt":"2026-11-30T09:15:00.133Z"}`),
		},
		{
			InstanceID: testInstance, AggregateType: "user", AggregateID: "312909075212010000", Sequence: 2, Type: "user.human.password.check.failed",
			CreatedAt: at(20), Owner: "312909075211977000", Creator: "312909075211922222", Payload: []byte(`{}`),
		},
		{
			InstanceID: testInstance, AggregateType: "user", AggregateID: "312909075212010000", Sequence: 3, Type: "user.locked",
			CreatedAt: at(30), Owner: "312909075211977000", Creator: "312909075211922222",
		},
		{
			InstanceID: testInstance, AggregateType: "oidc_session", AggregateID: "V2_312909200000000001", Sequence: 1, Type: "oidc_session.added",
			CreatedAt: at(40), Owner: "312909075211977000",
			Payload: []byte(`{"userID":"312909075212010000","userResourceOwner":"312909075211977000","sessionID":"312909100000000001",` +
				`"clientID":"312909300000000001@portal","audience":["312909300000000000"],"scope":["openid","profile"],"authMethods":[4,1],` +
				`"authTime":"2026-11-30T09:15:00.1Z","userAgent":{"fingerprintID":"fp","ip":"203.0.113.7","description":"Firefox"}}`),
		},
		{
			InstanceID: testInstance, AggregateType: "org", AggregateID: "312909075211977000", Sequence: 4, Type: "org.domain.verified",
			CreatedAt: at(50), Owner: "312909075211977000", Creator: "312909075211911111", Payload: []byte(`{"domain":"example.com"}`),
		},
	}
}

// namedPayload names a few payload fields, some of them absent from the
// events, none of them personal but the user ids.
func namedPayload() map[string][]string {
	return map[string][]string{
		"oidc_session.added":  {"clientID", "authMethods", "userID", "nonce"},
		"user.human.added":    {"preferredLanguage"},
		"org.domain.verified": {"domain"},
	}
}

func newLogs() plog.Logs { return plog.NewLogs() }

func mapPage(t *testing.T, cfg Config) plog.Logs {
	t.Helper()
	require.NoError(t, cfg.Validate())
	logs := plog.NewLogs()
	st := NewMapper(&cfg).Append(logs, testInstance, loginEvents(), testObserved)
	assert.Equal(t, PageStats{Records: logs.LogRecordCount()}, st)
	return logs
}

func compareGolden(t *testing.T, name string, got plog.Logs) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if os.Getenv("ZITADEL_UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteLogs(t, path, got))
	}
	want, err := golden.ReadLogs(path)
	require.NoError(t, err)
	require.NoError(t, plogtest.CompareLogs(want, got))
}

func TestRecordsWithoutPayload(t *testing.T) {
	logs := mapPage(t, NewDefaultConfig())
	compareGolden(t, "records_default.yaml", logs)
	assertNoPayload(t, logs, "")
}

func TestRecordsWithNamedPayload(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Payload = namedPayload()
	logs := mapPage(t, cfg)
	compareGolden(t, "records_payload.yaml", logs)
	assertNoPayload(t, logs, "312909075212010000")
}

func TestRecordsPseudonymous(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Payload = namedPayload()
	cfg.IDHashKey = "0123456789abcdef0123456789abcdef"
	logs := mapPage(t, cfg)
	compareGolden(t, "records_pseudonymous.yaml", logs)
	assertNoPayload(t, logs, "")
	// Neither the user's nor the editors' ids are left, in any attribute.
	text := marshalJSON(t, logs)
	for _, id := range []string{"312909075212010000", "312909075211911111", "312909075211922222"} {
		assert.NotContains(t, text, id)
		// In their place, base64url(HMAC-SHA256(key, id)), computed apart
		// from the mapper.
		mac := hmac.New(sha256.New, []byte(cfg.IDHashKey))
		mac.Write([]byte(id))
		assert.Contains(t, text, base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), id)
	}
}

// assertNoPayload checks that no personal value of the payloads, nor any
// field not named, reached a record. allowed is a value that may appear
// because a named field holds it.
func assertNoPayload(t *testing.T, logs plog.Logs, allowed string) {
	t.Helper()
	text := marshalJSON(t, logs)
	for _, v := range []string{
		"ada@example.com", "Ada", "Lovelace", "$2a$14$", "203.0.113.7", "Firefox", "fp",
		"encodedHash", "userAgent", "userResourceOwner", "sessionID", "openid", "checkedAt", "authTime", "email",
	} {
		assert.NotContains(t, text, v)
	}
	if allowed == "" {
		return
	}
	assert.Contains(t, text, allowed)
}

func marshalJSON(t *testing.T, logs plog.Logs) string {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(logs)
	require.NoError(t, err)
	return string(b)
}

func TestRecordUIDIsTheEventsIdentity(t *testing.T) {
	cfg := NewDefaultConfig()
	m := NewMapper(&cfg)
	e := loginEvents()[2]
	uid := m.recordUID(testInstance, &e)
	// As the README states it, computed apart from the mapper: the first 128
	// bits of SHA-256 over the length-prefixed instance, aggregate type and
	// aggregate id, then the sequence.
	identity := fmt.Sprintf("%d:%s%d:%s%d:%s%d", len(testInstance), testInstance,
		len(e.AggregateType), e.AggregateType, len(e.AggregateID), e.AggregateID, e.Sequence)
	sum := sha256.Sum256([]byte(identity))
	assert.Equal(t, hex.EncodeToString(sum[:16]), uid)

	// The same event read again, at another time with another payload as
	// the reader returns it, is the same record.
	again := e
	again.CreatedAt = again.CreatedAt.Add(time.Hour)
	again.Payload = nil
	assert.Equal(t, uid, m.recordUID(testInstance, &again))

	for name, other := range map[string]func(*zitadelevent.Event) string{
		"sequence":       func(e *zitadelevent.Event) string { e.Sequence++; return testInstance },
		"aggregate id":   func(e *zitadelevent.Event) string { e.AggregateID += "1"; return testInstance },
		"aggregate type": func(e *zitadelevent.Event) string { e.AggregateType = "org"; return testInstance },
		"instance":       func(*zitadelevent.Event) string { return testInstance + "1" },
		// The parts are length-prefixed: moving a character from one to the
		// next is another identity.
		"boundary": func(e *zitadelevent.Event) string {
			e.AggregateType = "use"
			e.AggregateID = "r" + e.AggregateID
			return testInstance
		},
	} {
		o := e
		inst := other(&o)
		assert.NotEqual(t, uid, m.recordUID(inst, &o), name)
	}

	keyed := cfg
	keyed.IDHashKey = "0123456789abcdef0123456789abcdef"
	mac := hmac.New(sha256.New, []byte(keyed.IDHashKey))
	mac.Write([]byte(identity))
	assert.Equal(t, hex.EncodeToString(mac.Sum(nil)[:16]), NewMapper(&keyed).recordUID(testInstance, &e),
		"a keyed uid cannot be tested against a guessed user id")
}

func TestSeverity(t *testing.T) {
	// Event types as ZITADEL v4 writes them (internal/repository/user, idpintent, session).
	warn := []string{
		"user.human.password.check.failed", "user.human.mfa.otp.check.failed", "user.human.mfa.otp.sms.check.failed",
		"user.human.mfa.otp.email.check.failed", "user.human.mfa.recoverycode.check.failed", "idpintent.failed", "user.locked",
	}
	info := []string{
		"user.human.password.check.succeeded", "user.unlocked", "oidc_session.added", "session.password.checked",
		"user.human.added", "org.added", "user.human.mfa.otp.check.succeeded", "idpintent.succeeded",
	}
	for _, ty := range warn {
		assert.True(t, Warns(ty), ty)
	}
	for _, ty := range info {
		assert.False(t, Warns(ty), ty)
	}
}

func TestUnreadablePayloadKeepsTheRecord(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.Payload = map[string][]string{"org.added": {"name"}}
	logs := plog.NewLogs()
	events := []zitadelevent.Event{
		{InstanceID: testInstance, AggregateType: "org", AggregateID: "1", Sequence: 1, Type: "org.added", Payload: []byte(`["not an object"]`)},
		{InstanceID: testInstance, AggregateType: "org", AggregateID: "2", Sequence: 1, Type: "org.added", Payload: []byte(`{"name":`)},
		{InstanceID: testInstance, AggregateType: "org", AggregateID: "3", Sequence: 1, Type: "org.added", Payload: []byte(`null`)},
	}
	st := NewMapper(&cfg).Append(logs, testInstance, events, testObserved)
	assert.Equal(t, PageStats{Records: 3, Unreadable: 2}, st)
	recs := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for i := range recs.Len() {
		for k := range recs.At(i).Attributes().All() {
			assert.False(t, strings.HasPrefix(k, AttrPayloadPrefix), k)
		}
	}
}
