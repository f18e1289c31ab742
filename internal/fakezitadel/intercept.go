package fakezitadel

import (
	"context"
	"net"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Request headers ZITADEL routes on.
const (
	headerInstanceHost = "x-zitadel-instance-host"
	headerOrgID        = "x-zitadel-orgid"
)

type callInfoKey struct{}

// callInfo is what the interceptor resolved for a handler.
type callInfo struct {
	inst *Instance
	org  *Org // management calls only
}

func infoFrom(ctx context.Context) *callInfo {
	ci, _ := ctx.Value(callInfoKey{}).(*callInfo)
	return ci
}

// intercept does for every call what ZITADEL's middleware does: count it,
// apply the switches, authenticate, pick the instance from
// x-zitadel-instance-host (the first instance without one) and, for v1
// management calls, the organization from x-zitadel-orgid.
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	s.total.Add(1)
	if c := s.calls[info.FullMethod]; c != nil {
		c.Add(1)
	}
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for p := s.peakInFlight.Load(); n > p && !s.peakInFlight.CompareAndSwap(p, n); {
		p = s.peakInFlight.Load()
	}
	if d := time.Duration(s.latency.Load()); d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-t.C:
		}
	}
	if err := s.injected(info.FullMethod); err != nil {
		return nil, err
	}

	s.data.RLock()
	defer s.data.RUnlock()
	p, err := s.authenticate(header(ctx, "authorization"))
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(info.FullMethod, "/zitadel.system.v1.") {
		if !p.system {
			return nil, status.Error(codes.Unauthenticated, "the system API accepts only system API users")
		}
		return handler(ctx, req)
	}
	inst, err := s.route(header(ctx, headerInstanceHost))
	if err != nil {
		return nil, err
	}
	if !p.system && p.instanceID != inst.ID {
		return nil, status.Error(codes.Unauthenticated, "the token belongs to another instance")
	}
	if p.noRole {
		// ZITADEL's authorization finds no membership before it looks for a permission.
		return nil, status.Error(codes.NotFound, "membership not found (AUTHZ-cdgFk)")
	}
	ci := &callInfo{inst: inst}
	if strings.HasPrefix(info.FullMethod, "/zitadel.management.v1.") {
		orgID := header(ctx, headerOrgID)
		if orgID == "" {
			// ZITADEL would use the caller's organization; a counting client
			// must always name the one it counts.
			return nil, status.Error(codes.InvalidArgument, "x-zitadel-orgid is missing")
		}
		if ci.org = inst.Org(orgID); ci.org == nil || s.isVanished(orgID) {
			return nil, status.Errorf(codes.NotFound, "organization %s not found", orgID)
		}
	}
	return handler(context.WithValue(ctx, callInfoKey{}, ci), req)
}

// tamper hands every answer to Options.Tamper.
func (s *Server) tamper(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	resp, err := handler(ctx, req)
	if err == nil {
		s.opts.Tamper(info.FullMethod, resp)
	}
	return resp, err
}

// injected applies the failure switches to one call.
func (s *Server) injected(method string) error {
	s.mu.RLock()
	authFailure, denied := s.authFailure, s.denied[method]
	_, anyFault := s.faults[method]
	_, everyFault := s.faults[""]
	s.mu.RUnlock()
	switch {
	case authFailure != codes.OK:
		return status.Error(authFailure, "authentication failure switched on")
	case denied:
		return status.Errorf(codes.PermissionDenied, "No matching permissions found (%s)", method)
	case !anyFault && !everyFault:
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{method, ""} {
		f, ok := s.faults[key]
		if !ok {
			continue
		}
		if f.after > 0 {
			f.after--
			return nil
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				delete(s.faults, key)
			}
		}
		st := status.Newf(f.code, "injected %s", f.code)
		if f.delay > 0 {
			if withDelay, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(f.delay)}); err == nil {
				st = withDelay
			}
		}
		return st.Err()
	}
	return nil
}

func (s *Server) isVanished(orgID string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.vanished[orgID]
}

// route finds the instance a host names; no host means the first instance.
func (s *Server) route(host string) (*Instance, error) {
	if host == "" {
		return s.ds.Instances[0], nil
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if in, ok := s.hostIndex[host]; ok {
		return in, nil
	}
	return nil, status.Errorf(codes.NotFound, "no instance has the domain %s", host)
}

func header(ctx context.Context, key string) string {
	if v := metadata.ValueFromIncomingContext(ctx, key); len(v) > 0 {
		return v[0]
	}
	return ""
}
