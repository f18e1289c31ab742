package zitadelapi

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/scraper/scrapererror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// requiredRole is the one instance role that allows every read this source makes.
const requiredRole = "IAM_OWNER_VIEWER"

// noMembershipID is the id of ZITADEL's answer to a user that holds no role
// at all: NOT_FOUND "membership not found (AUTHZ-cdgFk)".
const noMembershipID = "(AUTHZ-cdgFk)"

// asPermissionDenied turns ZITADEL's answer to a user without any role into
// the permission failure it is: as a NOT_FOUND it would read as a vanished
// organization, and the role hint would be missing.
func asPermissionDenied(err error) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.NotFound || !strings.Contains(st.Message(), noMembershipID) {
		return err
	}
	return status.Error(codes.PermissionDenied, st.Message()+": the user has no role in this instance")
}

// failures gathers what one scrape could not count. Failures of the same
// kind are folded into one line, so 10,000 organizations failing the same
// way give one message, not 10,000 log lines.
type failures struct {
	mu     sync.Mutex
	failed int // counts that could not be produced
	groups map[failureKey]*failureGroup
	order  []failureKey
	// refusal names the values left out for their shape, nil when none were.
	refusal error
}

// failureKey folds rejected credentials per instance and everything else per
// instance, resource and status code.
type failureKey struct {
	instance string
	resource string
	code     codes.Code
	local    bool // a credential that could not be produced: nothing was sent
}

type failureGroup struct {
	orgs      int
	firstOrg  string
	first     error
	resources []string // for authentication and permission failures
}

func newFailures() *failures {
	return &failures{groups: make(map[failureKey]*failureGroup)}
}

// add records one count that failed. instance labels where it happened
// ("instance 123"); orgID is empty for instance-level counts.
func (f *failures) add(instance, orgID, resource string, err error) {
	code := status.Code(err)
	key := failureKey{instance: instance, resource: resource, code: code}
	if code == codes.Unauthenticated || code == codes.PermissionDenied {
		key.resource = ""
	}
	var notProduced *credentialNotProduced
	key.local = errors.As(err, &notProduced)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failed++
	g, ok := f.groups[key]
	if !ok {
		g = &failureGroup{first: err, firstOrg: orgID}
		f.groups[key] = g
		f.order = append(f.order, key)
	}
	if orgID != "" {
		g.orgs++
	}
	if resource != "" && !slices.Contains(g.resources, resource) {
		g.resources = append(g.resources, resource)
	}
}

// skip counts a data point left out because of a failure already reported.
func (f *failures) skip(n int) {
	f.mu.Lock()
	f.failed += n
	f.mu.Unlock()
}

// refused counts n values left out for their shape, err naming them.
func (f *failures) refused(n int, err error) {
	f.mu.Lock()
	f.failed += n
	f.refusal = err
	f.mu.Unlock()
}

// err returns nil, or a partial scrape error when some counts were recorded,
// or a plain error when none were.
func (f *failures) err(recorded int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.order) == 0 && f.failed == 0 {
		return nil
	}
	lines := make([]error, 0, len(f.order))
	for _, k := range f.order {
		lines = append(lines, errors.New(f.groups[k].describe(k)))
	}
	if f.refusal != nil {
		lines = append(lines, f.refusal)
	}
	err := errors.Join(lines...)
	if recorded == 0 {
		return err
	}
	return scrapererror.NewPartialScrapeError(err, max(f.failed, 1))
}

func (g *failureGroup) describe(k failureKey) string {
	where := k.instance
	if k.local {
		return fmt.Sprintf("%s: no credentials to send, ZITADEL was not contacted: %v", where, g.first)
	}
	switch k.code {
	case codes.Unauthenticated:
		return fmt.Sprintf("%s: ZITADEL rejected the credentials (%v); check token, token_file, key_file or system_user "+
			"and that the user has the %s role", where, g.first, requiredRole)
	case codes.PermissionDenied:
		return fmt.Sprintf("%s: permission denied for %s (%v); grant the user the %s role, which allows every read "+
			"this receiver makes (listing instances also needs SYSTEM_OWNER_VIEWER)",
			where, strings.Join(g.resources, ", "), g.first, requiredRole)
	}
	switch {
	case g.orgs > 1:
		return fmt.Sprintf("%s: %s failed for %d organizations, first organization %s: %v", where, k.resource, g.orgs, g.firstOrg, g.first)
	case g.orgs == 1:
		return fmt.Sprintf("%s: organization %s: %s: %v", where, g.firstOrg, k.resource, g.first)
	}
	return fmt.Sprintf("%s: %s: %v", where, k.resource, g.first)
}
