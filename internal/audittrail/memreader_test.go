package audittrail

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// memReader serves each instance's events in commit order, as a reader that
// applies ZITADEL's guard against out-of-order commits delivers them: the
// cursor is the number of events read. It keeps to the Reader's contract:
// only the payload fields named come back.
type memReader struct {
	mu        sync.Mutex
	instances []string
	events    map[string][]zitadelevent.Event
	reads     []zitadelevent.Query
	failRead  error
	// failInstance fails the reads of one instance only.
	failInstance string
}

func newMemReader(perInstance int, instances ...string) *memReader {
	r := &memReader{instances: instances, events: map[string][]zitadelevent.Event{}}
	for _, in := range instances {
		r.add(in, perInstance)
	}
	return r
}

// add commits n more events of an instance: logins of a rotating set of
// users, with a failed check and a lockout among them.
func (r *memReader) add(instanceID string, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	base := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	have := len(r.events[instanceID])
	for i := have; i < have+n; i++ {
		user := fmt.Sprintf("3129090752%08d", i%997)
		e := zitadelevent.Event{
			InstanceID: instanceID, AggregateType: "user", AggregateID: user, Sequence: uint64(i/997 + 1),
			CreatedAt: base.Add(time.Duration(i) * time.Millisecond), Owner: "312909075211977000", Creator: user,
		}
		switch i % 10 {
		case 3:
			e.Type = "user.human.password.check.failed"
			e.Payload = []byte(`{}`)
		case 7:
			e.Type = "user.locked"
		default:
			e.AggregateType, e.AggregateID, e.Sequence = "oidc_session", fmt.Sprintf("V2_%d", i), 1
			e.Type = "oidc_session.added"
			e.Payload = []byte(fmt.Sprintf(`{"userID":%q,"clientID":"app-web","authMethods":[4],"userAgent":{"ip":"203.0.113.7"}}`, user))
		}
		r.events[instanceID] = append(r.events[instanceID], e)
	}
}

func (r *memReader) Instances(context.Context) ([]string, error) { return r.instances, nil }

func (r *memReader) Read(_ context.Context, q zitadelevent.Query) (zitadelevent.Page, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads = append(r.reads, q)
	if r.failRead != nil && (r.failInstance == "" || r.failInstance == q.InstanceID) {
		return zitadelevent.Page{}, r.failRead
	}
	from := 0
	if q.After != nil {
		if len(q.After) != 8 {
			return zitadelevent.Page{}, fmt.Errorf("%w: not a cursor", zitadelevent.ErrCursor)
		}
		from = int(binary.BigEndian.Uint64(q.After))
	}
	all := r.events[q.InstanceID]
	var page zitadelevent.Page
	i := from
	for ; i < len(all) && len(page.Events) < q.Limit; i++ {
		e := all[i]
		if len(q.EventTypes) > 0 && !slices.Contains(q.EventTypes, e.Type) ||
			len(q.AggregateTypes) > 0 && !slices.Contains(q.AggregateTypes, e.AggregateType) {
			continue
		}
		e.Payload = onlyFields(e.Payload, q.PayloadFields[e.Type])
		page.Events = append(page.Events, e)
	}
	page.Next = binary.BigEndian.AppendUint64(nil, uint64(i))
	page.More = i < len(all)
	return page, nil
}

func onlyFields(payload []byte, fields []string) []byte {
	if len(fields) == 0 || len(payload) == 0 {
		return nil
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(payload, &all) != nil {
		return nil
	}
	kept := map[string]json.RawMessage{}
	for _, f := range fields {
		if v, ok := all[f]; ok {
			kept[f] = v
		}
	}
	b, _ := json.Marshal(kept)
	return b
}
