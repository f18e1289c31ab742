package zitadeldb

import (
	"slices"
	"strings"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// EventsViewName is the view README.md asks ZITADEL's database user to
// create for a role that must not read eventstore.events2 itself.
const EventsViewName = "eventstore.otelcol_events"

// milestoneFields are the fields of milestone.reached the receiver reads.
var milestoneFields = []string{"type", "reachedDate"}

// AuditEventsViewName is the view README.md offers for the audit trail.
const AuditEventsViewName = "eventstore.otelcol_audit_events"

// EventsView is the SQL of that view: the columns the receiver reads, of
// the events it reads (the system id and version, the activity's events
// and the milestones), with only the payload fields it reads. A role
// granted only this view can never read a password hash, an e-mail
// address or a user agent.
func EventsView() string {
	types := activity.EventTypes()
	slices.Sort(types)
	var b strings.Builder
	b.WriteString(`CREATE VIEW ` + EventsViewName + ` WITH (security_barrier) AS
` + viewColumns() + `
WHERE instance_id = '' AND aggregate_type = 'system'
    AND (event_type = 'system.id.generated'
      OR event_type = 'system.migration.repeatable.done' AND payload->>'name' = 'projection_tables')
  OR aggregate_type = 'milestone' AND event_type = 'milestone.reached'
  OR aggregate_type IN (`)
	aggs := activity.AggregateTypes()
	for i, a := range aggs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(literal(a))
	}
	b.WriteString(")\n    AND event_type IN (")
	for i, t := range types {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n      " + literal(t))
	}
	b.WriteString(");")
	return b.String()
}

// AuditEventsView is the SQL of the audit trail's view: every event, with
// the same columns and payload fields as EventsView, so that one role reads
// the whole trail (and the activity and milestones) and never a payload
// field the receiver does not read.
func AuditEventsView() string {
	return `CREATE VIEW ` + AuditEventsViewName + ` WITH (security_barrier) AS
` + viewColumns() + `;`
}

// viewColumns selects the columns the receiver reads from events2, with
// only the payload fields it reads: of ZITADEL's own system events only the
// system id and the version, since its migration steps record their
// configuration.
func viewColumns() string {
	var b strings.Builder
	b.WriteString(`SELECT instance_id, aggregate_type, aggregate_id, "sequence", event_type, created_at, "owner", creator,
  CASE
    WHEN aggregate_type = 'system' AND event_type = 'system.id.generated' THEN jsonb_build_object('id', payload->'id')
    WHEN aggregate_type = 'system' AND event_type = 'system.migration.repeatable.done' AND payload->>'name' = 'projection_tables'
      THEN jsonb_build_object('name', payload->'name', 'lastRun', jsonb_build_object('version', payload->'lastRun'->'version'))`)
	fields := activity.PayloadFields()
	named := make([]string, 0, len(fields))
	for typ := range fields {
		named = append(named, typ)
	}
	slices.Sort(named)
	for _, typ := range named {
		b.WriteString("\n    WHEN event_type = " + literal(typ) + " THEN " + buildObject(fields[typ]))
	}
	b.WriteString("\n    WHEN event_type = 'milestone.reached' THEN " + buildObject(milestoneFields))
	b.WriteString(`
  END AS payload,
  "position", in_tx_order
FROM eventstore.events2`)
	return b.String()
}

func buildObject(fields []string) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = "\n      " + literal(f) + ", payload->" + literal(f)
	}
	return "jsonb_strip_nulls(jsonb_build_object(" + strings.Join(parts, ",") + "))"
}

// literal quotes a name of this package's own as an SQL string.
func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
