package zitadelevent

import "time"

// Creation dates outside these bounds are refused at the edge of both
// readers: ZITADEL writes created_at from PostgreSQL's statement timestamp,
// so an event older than the first ZITADEL release or far ahead of the
// collector's clock is damage, a broken clock or a hostile database. Kept,
// such a date would move a read position by centuries.
var (
	earliestCreation = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MaxClockAhead is how far ahead of the collector's clock ZITADEL's clock
// may run before an event's date is refused.
const MaxClockAhead = 24 * time.Hour

// Plausible reports whether ZITADEL can have created an event at t, seen at now.
func Plausible(t, now time.Time) bool {
	return !t.Before(earliestCreation) && !t.After(now.Add(MaxClockAhead))
}

// CreationMargin is how long before its place in ZITADEL's order an event's
// creation date is taken to lie at most. ZITADEL writes created_at as the
// pushing statement's statement_timestamp() and the position as
// clock_timestamp() at the insert, so created_at <= position, apart by what
// the statement did first (find its aggregates' sequences, wait for a lock).
// A read bounded by creation date reaches back this far for an event that
// comes after its cursor in ZITADEL's order with an earlier creation date.
const CreationMargin = 10 * time.Second
