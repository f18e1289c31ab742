// Package activity turns ZITADEL's login, check and lockout events into
// cumulative counters and distinct active users, and keeps what it needs
// between scrapes: the read position, the counters and the active-user
// windows, in a form the receiver writes to a storage extension.
//
// Nothing personal is kept: user ids are replaced by keyed 64-bit hashes
// (SipHash-2-4, github.com/dchest/siphash, with a random 128-bit key of the
// instance's state) before anything is stored, and session ids, IP
// addresses and user agents are never read beyond telling whether a session
// exists. Application (OIDC client, SAML entity) and organization ids are
// kept and emitted: they name no person.
//
// Active users are counted exactly, from the hash and the last login time of
// each user, while a parent (instance or organization) has fewer than
// ExactLimit distinct users of one type over the longest window; above that
// the parent's users go into HyperLogLog sketches (github.com/axiomhq/hyperloglog,
// precision 14, a standard error of 0.81%) kept per hour for the last day and
// per day before it.
package activity
