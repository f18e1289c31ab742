package audittrail

import (
	"bytes"
	"encoding/json"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
)

// putPayload adds the named fields of a payload, and no other, as
// attributes. A field the payload lacks is left out. It reports false when
// the payload is not a JSON object; then nothing of it is added.
func putPayload(attrs pcommon.Map, payload []byte, fields []string, ps *idhash.Pseudonyms) bool {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(payload, &obj); err != nil || obj == nil {
		return bytes.Equal(bytes.TrimSpace(payload), []byte("null"))
	}
	for _, f := range fields {
		raw, ok := obj[f]
		if !ok {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || v == nil {
			continue
		}
		v = plain(v)
		if s, ok := v.(string); ok && ps != nil && isUserIDField(f) {
			v = ps.Of(s)
		}
		// FromRaw accepts every type plain returns.
		_ = attrs.PutEmpty(AttrPayloadPrefix + f).FromRaw(v)
	}
	return true
}

// plain turns decoded JSON into the types pcommon.Value.FromRaw takes:
// whole numbers as int64, others as float64.
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
