package audittrail

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// putPayload adds the named fields of a payload, and no other, as
// attributes. A field the payload lacks is left out. It reports false when
// the payload is not a JSON object; then nothing of it is added.
func putPayload(attrs pcommon.Map, payload []byte, fields []string, ps *idhash.Pseudonyms) bool {
	if bytes.Equal(bytes.TrimSpace(payload), []byte("null")) {
		return true
	}
	// The readers build flat objects of the named fields; a field is
	// checked against the names again all the same.
	var kept []func()
	err := zitadelevent.EachField(payload, func(key string, raw []byte) {
		if !slices.Contains(fields, key) {
			return
		}
		v, ok := valueOf(raw)
		if !ok {
			return
		}
		if s, isStr := v.(string); isStr && ps != nil && isUserIDField(key) {
			v = ps.Of(s)
		}
		kept = append(kept, func() { _ = attrs.PutEmpty(AttrPayloadPrefix + key).FromRaw(v) })
	})
	if err != nil {
		return false
	}
	for _, put := range kept {
		put()
	}
	return true
}

// valueOf decodes one raw JSON value into what pcommon.Value.FromRaw takes:
// whole numbers as int64, others as float64. null is no value.
func valueOf(raw []byte) (any, bool) {
	switch {
	case len(raw) == 0:
		return nil, false
	case raw[0] == '"':
		return zitadelevent.String(raw), true
	case string(raw) == "true", string(raw) == "false":
		return string(raw) == "true", true
	case string(raw) == "null":
		return nil, false
	case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
		if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			return i, true
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		return f, err == nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || v == nil {
		return nil, false
	}
	return plain(v), true
}

// plain turns decoded JSON into the types pcommon.Value.FromRaw takes.
func plain(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case []any:
		for i := range t {
			t[i] = plain(t[i])
		}
	case map[string]any:
		for k := range t {
			t[k] = plain(t[k])
		}
	}
	return v
}

// isUserIDField reports whether ZITADEL names a user id with this payload
// key (userID in sessions and OIDC sessions, userId in IdP intents).
func isUserIDField(name string) bool { return strings.EqualFold(name, "userID") }
