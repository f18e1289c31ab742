package fakezitadel

import (
	"context"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	milestonepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/milestone/v1"
	objectpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
)

// ZITADEL's domain.UserAuthMethodType values, as oidc_session.added and
// saml_session.added carry them in authMethods.
const (
	AuthTOTP         = 1
	AuthU2F          = 2
	AuthPasswordless = 3
	AuthPassword     = 4
	AuthIdP          = 5
	AuthOTPSMS       = 6
	AuthOTPEmail     = 7
	AuthPrivateKey   = 9
)

// Login is one login as ZITADEL writes it.
type Login struct {
	UserID string
	Org    *Org // the user's organization
	// ClientID is the OIDC application; EntityID, when set instead, the SAML one.
	ClientID string
	EntityID string
	// Machine is a grant without a session: client credentials, JWT profile
	// (AuthPrivateKey) or token exchange.
	Machine     bool
	AuthMethods []int
}

// Login writes the events of one login as ZITADEL v4 does: for a user, a
// session (owned by the instance, naming the user only in
// session.user.checked), the checks of its factors on the user, then the
// oidc_session.added or saml_session.added event; for a machine grant only
// the oidc_session.added, without a session id. The payloads carry the
// user agent and IP address, as ZITADEL's do.
func (w *Writer) Login(l Login) {
	in := w.in
	sessionID := ""
	if !l.Machine {
		sessionID = w.ds.ids.new()
		w.eventWith(Event{
			AggregateType: "session", AggregateID: sessionID, ResourceOwner: in.ID, Type: "session.added",
			Payload: map[string]any{"userAgent": userAgent()},
		})
		w.eventWith(Event{
			AggregateType: "session", AggregateID: sessionID, ResourceOwner: in.ID, Type: "session.user.checked",
			Payload: map[string]any{"userID": l.UserID, "userResourceOwner": l.Org.ID, "checkedAt": w.at.Format(time.RFC3339Nano)},
		})
		for _, m := range l.AuthMethods {
			switch m {
			case AuthPassword:
				w.eventWith(Event{AggregateType: "session", AggregateID: sessionID, ResourceOwner: in.ID, Type: "session.password.checked"})
				w.CheckPassword(l.Org, l.UserID, true)
			case AuthTOTP:
				w.Check(l.Org, l.UserID, "user.human.mfa.otp.check.succeeded")
			}
		}
	}
	methods := make([]any, len(l.AuthMethods))
	for i, m := range l.AuthMethods {
		methods[i] = float64(m)
	}
	p := map[string]any{
		"userID": l.UserID, "userResourceOwner": l.Org.ID, "sessionID": sessionID,
		"authMethods": methods, "authTime": w.at.Format(time.RFC3339Nano), "userAgent": userAgent(),
	}
	e := Event{ResourceOwner: l.Org.ID, AggregateID: "V2_" + w.ds.ids.new(), Payload: p}
	if l.EntityID != "" {
		e.AggregateType, e.Type = "saml_session", "saml_session.added"
		p["entityID"], p["audience"] = l.EntityID, []any{l.EntityID}
	} else {
		e.AggregateType, e.Type = "oidc_session", "oidc_session.added"
		p["clientID"], p["audience"], p["scope"] = l.ClientID, []any{l.ClientID}, []any{"openid"}
	}
	w.eventWith(e)
	if !l.Machine {
		w.reach(milestonepb.MilestoneType_MILESTONE_TYPE_AUTHENTICATION_SUCCEEDED_ON_INSTANCE)
		w.reach(milestonepb.MilestoneType_MILESTONE_TYPE_AUTHENTICATION_SUCCEEDED_ON_APPLICATION)
	}
}

// userAgent is what ZITADEL stores of the client: personal, never to be emitted.
func userAgent() map[string]any {
	return map[string]any{
		"fingerprint_id": "fp-1", "ip": "203.0.113.7", "description": "Mozilla/5.0 (X11; Linux x86_64)",
		"header": map[string]any{"accept-language": []any{"de-CH"}},
	}
}

// CheckPassword writes a password check of a user; a failed one names no
// application, as in ZITADEL.
func (w *Writer) CheckPassword(o *Org, userID string, ok bool) {
	if ok {
		w.Check(o, userID, "user.human.password.check.succeeded")
	} else {
		w.Check(o, userID, "user.human.password.check.failed")
	}
}

// Check writes a check event of a user, such as
// user.human.mfa.otp.sms.check.failed; the Session API writes them with an
// empty payload, the user as their editor.
func (w *Writer) Check(o *Org, userID, eventType string) {
	w.eventWith(Event{AggregateType: AggregateUser, AggregateID: userID, ResourceOwner: o.ID, Type: eventType, Creator: userID})
}

// Lock writes user.locked, as the lockout policy does after too many failed checks.
func (w *Writer) Lock(o *Org, userID string) {
	w.eventWith(Event{AggregateType: AggregateUser, AggregateID: userID, ResourceOwner: o.ID, Type: "user.locked"})
}

// ReachMilestone marks a milestone reached at the write's time, once.
func (w *Writer) ReachMilestone(t milestonepb.MilestoneType) { w.reach(t) }

func (w *Writer) reach(t milestonepb.MilestoneType) {
	if w.in.milestones == nil {
		w.in.milestones = map[milestonepb.MilestoneType]time.Time{}
	}
	if _, ok := w.in.milestones[t]; !ok {
		w.in.milestones[t] = w.at
	}
}

func (w *Writer) eventWith(e Event) { w.in.record(w.at, e) }

// retention is ZITADEL's AuditLogRetention: older events are not listed.
type retention struct {
	mu  sync.Mutex
	d   time.Duration
	now func() time.Time
}

// SetAuditLogRetention hides the events older than d before now(), as
// ZITADEL's AuditLogRetention does, without an error; 0 shows every event.
func (s *Server) SetAuditLogRetention(d time.Duration, now func() time.Time) {
	s.retention.mu.Lock()
	s.retention.d, s.retention.now = d, now
	s.retention.mu.Unlock()
}

func (s *Server) retainedSince() time.Time {
	s.retention.mu.Lock()
	defer s.retention.mu.Unlock()
	if s.retention.d <= 0 {
		return time.Time{}
	}
	return s.retention.now().Add(-s.retention.d)
}

// ListMilestones answers the instance's milestones: instance creation and
// those its writes reached, filtered by is_reached_query, sorted by type.
func (a adminService) ListMilestones(ctx context.Context, req *adminpb.ListMilestonesRequest) (*adminpb.ListMilestonesResponse, error) {
	in := infoFrom(ctx).inst
	var out []*milestonepb.Milestone
	for t := milestonepb.MilestoneType_MILESTONE_TYPE_INSTANCE_CREATED; t <= milestonepb.MilestoneType_MILESTONE_TYPE_INSTANCE_DELETED; t++ {
		at, ok := in.milestones[t]
		if t == milestonepb.MilestoneType_MILESTONE_TYPE_INSTANCE_CREATED {
			at, ok = in.CreatedAt, true
		}
		m := &milestonepb.Milestone{Type: t}
		if ok {
			m.ReachedDate = timestamppb.New(at)
		}
		if !matchesReached(req.GetQueries(), ok) {
			continue
		}
		out = append(out, m)
	}
	if limit := req.GetQuery().GetLimit(); limit > 0 && int(limit) < len(out) {
		out = out[:limit]
	}
	return &adminpb.ListMilestonesResponse{Details: &objectpb.ListDetails{TotalResult: uint64(len(out))}, Result: out}, nil
}

func matchesReached(qs []*milestonepb.MilestoneQuery, reached bool) bool {
	for _, q := range qs {
		if r := q.GetIsReachedQuery(); r != nil && r.GetReached() != reached {
			return false
		}
	}
	return true
}

// Milestones are the instance's reached milestones and when, instance
// creation included: what ListMilestones answers as reached.
func (in *Instance) Milestones() map[milestonepb.MilestoneType]time.Time {
	out := map[milestonepb.MilestoneType]time.Time{milestonepb.MilestoneType_MILESTONE_TYPE_INSTANCE_CREATED: in.CreatedAt}
	for t, at := range in.milestones {
		out[t] = at
	}
	return out
}
