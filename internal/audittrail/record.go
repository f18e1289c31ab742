package audittrail

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// The names a record carries. The instance is the resource's
// zitadel.instance.id, as in the metric contract.
const (
	AttrInstanceID    = "zitadel.instance.id"
	AttrEventType     = "zitadel.event.type"
	AttrAggregateType = "zitadel.aggregate.type"
	AttrAggregateID   = "zitadel.aggregate.id"
	AttrSequence      = "zitadel.event.sequence"
	AttrPosition      = "zitadel.event.position"
	AttrOwner         = "zitadel.event.owner"
	AttrCreator       = "zitadel.event.creator"
	// AttrPayloadPrefix starts the name of each payload field an operator named.
	AttrPayloadPrefix = "zitadel.event.payload."
	// AttrRecordUID is OpenTelemetry's unique id of a log record.
	AttrRecordUID = "log.record.uid"
)

// userAggregateType is the aggregate of ZITADEL's human and machine users:
// its id is a user id.
const userAggregateType = "user"

// Mapper turns events into log records. It is not safe for concurrent use.
type Mapper struct {
	filter  *Filter
	payload map[string][]string
	hasher  *idhash.Hasher
	// uid hashes an event's identity: HMAC under id_hash_key when one is
	// set, so that the uid of a user's event cannot be tested against a
	// guessed user id either.
	uid    hash.Hash
	uidBuf []byte
	sum    [sha256.Size]byte
}

// NewMapper maps events as a valid configuration says.
func NewMapper(c *Config) *Mapper {
	m := &Mapper{filter: NewFilter(c), payload: c.Payload, hasher: idhash.New(c.IDHashKey), uid: sha256.New()}
	if c.IDHashKey != "" {
		m.uid = hmac.New(sha256.New, []byte(c.IDHashKey))
	}
	return m
}

// PageStats says what mapping a page did besides making records.
type PageStats struct {
	// Records is the number of records made.
	Records int
	// Filtered is the number of events the filter left out.
	Filtered int
	// Unreadable is the number of events whose payload was not a JSON
	// object; their records go out without payload fields.
	Unreadable int
}

// Append adds the records of one instance's events to logs, as one
// resource; observed is when they were read.
func (m *Mapper) Append(logs plog.Logs, instanceID string, events []zitadelevent.Event, observed time.Time) PageStats {
	var st PageStats
	rl := logs.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr(AttrInstanceID, instanceID)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName(model.ScopeName)
	records := sl.LogRecords()
	records.EnsureCapacity(len(events))
	var ps *idhash.Pseudonyms
	if m.hasher != nil {
		ps = m.hasher.Pseudonyms()
	}
	obs := pcommon.NewTimestampFromTime(observed)
	for i := range events {
		e := &events[i]
		if !m.filter.Keep(e.Type, e.AggregateType) {
			st.Filtered++
			continue
		}
		if !m.record(records.AppendEmpty(), instanceID, e, obs, ps) {
			st.Unreadable++
		}
		st.Records++
	}
	return st
}

// record fills one record; it reports false when the payload could not be
// read.
func (m *Mapper) record(lr plog.LogRecord, instanceID string, e *zitadelevent.Event, observed pcommon.Timestamp, ps *idhash.Pseudonyms) bool {
	lr.SetTimestamp(pcommon.NewTimestampFromTime(e.CreatedAt))
	lr.SetObservedTimestamp(observed)
	lr.SetEventName(e.Type)
	lr.Body().SetStr(e.Type)
	if Warns(e.Type) {
		lr.SetSeverityNumber(plog.SeverityNumberWarn)
		lr.SetSeverityText("WARN")
	} else {
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
	}
	attrs := lr.Attributes()
	attrs.EnsureCapacity(8)
	attrs.PutStr(AttrRecordUID, m.recordUID(instanceID, e))
	attrs.PutStr(AttrEventType, e.Type)
	attrs.PutStr(AttrAggregateType, e.AggregateType)
	aggregateID := e.AggregateID
	if ps != nil && e.AggregateType == userAggregateType {
		aggregateID = ps.Of(aggregateID)
	}
	attrs.PutStr(AttrAggregateID, aggregateID)
	attrs.PutInt(AttrSequence, int64(e.Sequence)) //nolint:gosec // ZITADEL's sequence is a bigint
	if e.Position != "" {
		attrs.PutStr(AttrPosition, e.Position)
	}
	if e.Owner != "" {
		attrs.PutStr(AttrOwner, e.Owner)
	}
	if e.Creator != "" {
		creator := e.Creator
		if ps != nil {
			creator = ps.Of(creator)
		}
		attrs.PutStr(AttrCreator, creator)
	}
	fields := m.payload[e.Type]
	if len(fields) == 0 || len(e.Payload) == 0 {
		return true
	}
	return putPayload(attrs, e.Payload, fields, ps)
}

// recordUID is the event's identity hashed: the same event read twice gives
// the same uid, two events never the same one.
func (m *Mapper) recordUID(instanceID string, e *zitadelevent.Event) string {
	b := m.uidBuf[:0]
	for _, s := range [...]string{instanceID, e.AggregateType, e.AggregateID} {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	b = strconv.AppendUint(b, e.Sequence, 10)
	m.uidBuf = b
	m.uid.Reset()
	m.uid.Write(b)
	// 128 bits, the size of a UUID: no collision in any trail's lifetime.
	return hex.EncodeToString(m.uid.Sum(m.sum[:0])[:16])
}

// Warns reports whether an event of this type is a security warning: a
// failed check of a password, an OTP, a recovery code or an identity
// provider, and a lockout.
func Warns(eventType string) bool {
	return strings.HasSuffix(eventType, ".failed") && (strings.Contains(eventType, ".check.") || strings.HasPrefix(eventType, "idpintent.")) ||
		eventType == "user.locked"
}
