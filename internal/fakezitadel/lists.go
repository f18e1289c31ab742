package fakezitadel

import (
	"math"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	filterpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/filter/v2"
)

// ZITADEL's SystemDefaults for filter.v2 pagination.
const (
	defaultQueryLimit = 100
	maxQueryLimit     = 1000
)

// zeroLimitRecordCap bounds the record of offending calls.
const zeroLimitRecordCap = 1000

// window is a requested page: rows [offset, offset+limit).
type window struct {
	offset, limit uint64
}

// listWindow reads a v1 or object.v2 ListQuery. A missing query or a limit
// of 0 means no limit at all, as in ZITADEL; the call is recorded.
func (s *Server) listWindow(method string, present bool, offset uint64, limit uint32) window {
	if !present || limit == 0 {
		s.recordZeroLimit(method)
		return window{offset: offset, limit: math.MaxUint64}
	}
	return window{offset: offset, limit: uint64(limit)}
}

// paginationWindow reads a filter.v2 PaginationRequest: no limit gives the
// default page (and is recorded), more than the maximum is refused.
func (s *Server) paginationWindow(method string, p *filterpb.PaginationRequest) (window, error) {
	if p.GetLimit() == 0 {
		s.recordZeroLimit(method)
		return window{offset: p.GetOffset(), limit: defaultQueryLimit}, nil
	}
	if p.GetLimit() > maxQueryLimit {
		return window{}, status.Errorf(codes.InvalidArgument, "Errors.Query.LimitExceeded: %d > %d", p.GetLimit(), maxQueryLimit)
	}
	return window{offset: p.GetOffset(), limit: uint64(p.GetLimit())}, nil
}

func (s *Server) recordZeroLimit(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.zeroLimits) < zeroLimitRecordCap {
		s.zeroLimits = append(s.zeroLimits, method)
	}
}

// total is what ZITADEL reports for a page of a list of n rows: the count
// rides on the returned rows (COUNT(*) OVER ()), so a page past the end
// reports 0.
func (w window) total(n int) uint64 {
	if w.offset >= uint64(n) {
		return 0
	}
	return uint64(n)
}

// rows returns the bounds of the page within a list of n rows.
func (w window) rows(n int) (from, to int) {
	if w.offset >= uint64(n) {
		return n, n
	}
	from = int(w.offset)
	to = n
	if w.limit < uint64(n-from) {
		to = from + int(w.limit)
	}
	return from, to
}
