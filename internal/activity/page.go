package activity

import "github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"

// PayloadFields are the only payload fields read: of the logins, the user
// (hashed at once), the organization, whether a session exists, the
// application and the methods. User agents and IP addresses are never read.
// Readers do not change the map.
func PayloadFields() map[string][]string { return payloadFields }

var payloadFields = map[string][]string{
	TypeOIDCSessionAdded: {"userID", "userResourceOwner", "sessionID", "clientID", "authMethods"},
	TypeSAMLSessionAdded: {"userID", "userResourceOwner", "sessionID", "entityID", "authMethods"},
}

// ApplyEvents counts the events of a page; a reader hands each event once.
func (in *Instance) ApplyEvents(events []zitadelevent.Event) {
	var (
		ae      Event
		methods []int
		fields  zitadelevent.Fields
		ids     = idStrings{}
	)
	for i := range events {
		e := &events[i]
		if !Relevant(e.Type) {
			continue
		}
		ae = Event{
			AggregateID:   e.AggregateID,
			AggregateType: e.AggregateType,
			ResourceOwner: e.Owner,
			Type:          e.Type,
			Sequence:      e.Sequence,
			CreatedAt:     e.CreatedAt,
		}
		methods = methods[:0]
		// A payload the readers did not build leaves the login without its
		// fields rather than failing the read.
		for fields.Reset(e.Payload); fields.Next(); {
			v := fields.Value()
			switch string(fields.Key()) {
			case "userID":
				ae.UserID = zitadelevent.String(v)
			case "userResourceOwner":
				ae.UserResourceOwner = ids.get(v)
			case "sessionID":
				ae.HasSession = len(v) > 2 && v[0] == '"'
			case "clientID":
				ae.ClientID = ids.get(v)
			case "entityID":
				ae.EntityID = ids.get(v)
			case "authMethods":
				methods = zitadelevent.AppendInts(methods, v)
			}
		}
		ae.AuthMethods = methods
		in.Apply(&ae)
	}
}

// idStrings shares the decoded organization and application ids of a
// page, which repeat from login to login.
type idStrings map[string]string

func (m idStrings) get(raw []byte) string {
	if s, ok := m[string(raw)]; ok {
		return s
	}
	s := zitadelevent.String(raw)
	if len(m) < 4096 {
		m[string(raw)] = s
	}
	return s
}
