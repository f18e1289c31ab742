package fakezitadel

import (
	"context"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	actionpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/action/v2"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	filterpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/filter/v2"
	idppb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/idp"
	instancepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/instance"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	objectv1 "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
	objectv2 "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object/v2"
	orgpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org/v2"
	projectpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/project"
	sessionpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/session/v2"
	systempb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/system"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)

func v1Window(s *Server, method string, q *objectv1.ListQuery) window {
	return s.listWindow(method, q != nil, q.GetOffset(), q.GetLimit())
}

func v2Window(s *Server, method string, q *objectv2.ListQuery) window {
	return s.listWindow(method, q != nil, q.GetOffset(), q.GetLimit())
}

func v1Details(w window, n int) *objectv1.ListDetails {
	return &objectv1.ListDetails{TotalResult: w.total(n)}
}

func v2Details(w window, n int) *objectv2.ListDetails {
	return &objectv2.ListDetails{TotalResult: w.total(n)}
}

func paginationResponse(w window, n int) *filterpb.PaginationResponse {
	return &filterpb.PaginationResponse{TotalResult: w.total(n), AppliedLimit: w.limit}
}

func instanceDomains(in *Instance) []*instancepb.Domain {
	out := make([]*instancepb.Domain, 0, len(in.Domains))
	for _, d := range in.Domains {
		out = append(out, &instancepb.Domain{Domain: d.Name, Primary: d.Primary, Generated: d.Generated})
	}
	return out
}

type adminService struct {
	adminpb.UnimplementedAdminServiceServer
	s *Server
}

func (a adminService) GetMyInstance(ctx context.Context, _ *adminpb.GetMyInstanceRequest) (*adminpb.GetMyInstanceResponse, error) {
	in := infoFrom(ctx).inst
	return &adminpb.GetMyInstanceResponse{Instance: &instancepb.InstanceDetail{
		Id:      in.ID,
		Details: &objectv1.ObjectDetails{CreationDate: timestamppb.New(in.CreatedAt)},
		Version: a.s.ds.Version,
		Domains: instanceDomains(in),
	}}, nil
}

func (a adminService) ListIAMMembers(ctx context.Context, req *adminpb.ListIAMMembersRequest) (*adminpb.ListIAMMembersResponse, error) {
	w := v1Window(a.s, adminpb.AdminService_ListIAMMembers_FullMethodName, req.GetQuery())
	return &adminpb.ListIAMMembersResponse{Details: v1Details(w, infoFrom(ctx).inst.IAMAdmins)}, nil
}

func (a adminService) ListProviders(ctx context.Context, req *adminpb.ListProvidersRequest) (*adminpb.ListProvidersResponse, error) {
	in := infoFrom(ctx).inst
	rows := providerRows(in.ID, idppb.IDPOwnerType_IDP_OWNER_TYPE_SYSTEM, in.IdPs, in.LDAPIdPs)
	w := v1Window(a.s, adminpb.AdminService_ListProviders_FullMethodName, req.GetQuery())
	from, to := w.rows(len(rows))
	return &adminpb.ListProvidersResponse{Details: v1Details(w, len(rows)), Result: rows[from:to]}, nil
}

type managementService struct {
	mgmtpb.UnimplementedManagementServiceServer
	s *Server
}

func (m managementService) ListProjects(ctx context.Context, req *mgmtpb.ListProjectsRequest) (*mgmtpb.ListProjectsResponse, error) {
	org := infoFrom(ctx).org
	w := v1Window(m.s, mgmtpb.ManagementService_ListProjects_FullMethodName, req.GetQuery())
	from, to := w.rows(len(org.Projects))
	result := make([]*projectpb.Project, 0, to-from)
	for _, p := range org.Projects[from:to] {
		result = append(result, &projectpb.Project{Id: p.ID})
	}
	return &mgmtpb.ListProjectsResponse{Details: v1Details(w, len(org.Projects)), Result: result}, nil
}

func (m managementService) ListApps(ctx context.Context, req *mgmtpb.ListAppsRequest) (*mgmtpb.ListAppsResponse, error) {
	p := infoFrom(ctx).org.Project(req.GetProjectId())
	if p == nil {
		return nil, status.Errorf(codes.NotFound, "project %s not found", req.GetProjectId())
	}
	w := v1Window(m.s, mgmtpb.ManagementService_ListApps_FullMethodName, req.GetQuery())
	return &mgmtpb.ListAppsResponse{Details: v1Details(w, p.Apps)}, nil
}

func (m managementService) ListUserGrants(ctx context.Context, req *mgmtpb.ListUserGrantRequest) (*mgmtpb.ListUserGrantResponse, error) {
	w := v1Window(m.s, mgmtpb.ManagementService_ListUserGrants_FullMethodName, req.GetQuery())
	return &mgmtpb.ListUserGrantResponse{Details: v1Details(w, infoFrom(ctx).org.Grants)}, nil
}

// ListProviders lists the instance's and the organization's providers, as
// ZITADEL does, unless an owner type narrows it.
func (m managementService) ListProviders(ctx context.Context, req *mgmtpb.ListProvidersRequest) (*mgmtpb.ListProvidersResponse, error) {
	ci := infoFrom(ctx)
	instance := providerRows(ci.inst.ID, idppb.IDPOwnerType_IDP_OWNER_TYPE_SYSTEM, ci.inst.IdPs, ci.inst.LDAPIdPs)
	org := providerRows(ci.org.ID, idppb.IDPOwnerType_IDP_OWNER_TYPE_ORG, ci.org.IdPs, ci.org.LDAPIdPs)
	rows := slices.Concat(instance, org)
	for _, q := range req.GetQueries() {
		switch q.GetOwnerTypeQuery().GetOwnerType() {
		case idppb.IDPOwnerType_IDP_OWNER_TYPE_ORG:
			rows = org
		case idppb.IDPOwnerType_IDP_OWNER_TYPE_SYSTEM:
			rows = instance
		}
	}
	w := v1Window(m.s, mgmtpb.ManagementService_ListProviders_FullMethodName, req.GetQuery())
	from, to := w.rows(len(rows))
	return &mgmtpb.ListProvidersResponse{Details: v1Details(w, len(rows)), Result: rows[from:to]}, nil
}

func (m managementService) ListActions(ctx context.Context, req *mgmtpb.ListActionsRequest) (*mgmtpb.ListActionsResponse, error) {
	w := v1Window(m.s, mgmtpb.ManagementService_ListActions_FullMethodName, req.GetQuery())
	return &mgmtpb.ListActionsResponse{Details: v1Details(w, infoFrom(ctx).org.Actions)}, nil
}

type orgService struct {
	orgpb.UnimplementedOrganizationServiceServer
	s *Server
}

func (o orgService) ListOrganizations(ctx context.Context, req *orgpb.ListOrganizationsRequest) (*orgpb.ListOrganizationsResponse, error) {
	orgs := infoFrom(ctx).inst.Orgs
	w := v2Window(o.s, orgpb.OrganizationService_ListOrganizations_FullMethodName, req.GetQuery())
	from, to := w.rows(len(orgs))
	result := make([]*orgpb.Organization, 0, to-from)
	for _, org := range orgs[from:to] {
		result = append(result, &orgpb.Organization{Id: org.ID})
	}
	return &orgpb.ListOrganizationsResponse{Details: v2Details(w, len(orgs)), Result: result}, nil
}

type userService struct {
	userpb.UnimplementedUserServiceServer
	s *Server
}

// ListUsers ANDs the organization, type and state filters.
func (u userService) ListUsers(ctx context.Context, req *userpb.ListUsersRequest) (*userpb.ListUsersResponse, error) {
	in := infoFrom(ctx).inst
	all, machines, states := in.users, in.machines, in.states
	userType := userpb.Type_TYPE_UNSPECIFIED
	var state *userpb.UserState
	for _, q := range req.GetQueries() {
		if oq := q.GetOrganizationIdQuery(); oq != nil {
			// An unknown or deleted organization simply has no users.
			all, machines, states = 0, 0, UserStates{}
			if org := in.Org(oq.GetOrganizationId()); org != nil && !u.s.isVanished(org.ID) {
				all, machines, states = org.Users, org.Machines, org.States
			}
		}
		if tq := q.GetTypeQuery(); tq != nil {
			userType = tq.GetType()
		}
		if sq := q.GetStateQuery(); sq != nil {
			st := sq.GetState()
			state = &st
		}
	}
	if state != nil {
		all, machines = states.in(*state)
	}
	n := all
	switch userType {
	case userpb.Type_TYPE_MACHINE:
		n = machines
	case userpb.Type_TYPE_HUMAN:
		n = all - machines
	}
	w := v2Window(u.s, userpb.UserService_ListUsers_FullMethodName, req.GetQuery())
	return &userpb.ListUsersResponse{Details: v2Details(w, n)}, nil
}

type sessionService struct {
	sessionpb.UnimplementedSessionServiceServer
	s *Server
}

// ListSessions supports one expiration filter, the one a counting client sends.
func (ss sessionService) ListSessions(ctx context.Context, req *sessionpb.ListSessionsRequest) (*sessionpb.ListSessionsResponse, error) {
	in := infoFrom(ctx).inst
	n := len(in.SessionExpiries)
	for _, q := range req.GetQueries() {
		e := q.GetExpirationDateQuery()
		if e == nil {
			continue
		}
		t := e.GetExpirationDate().AsTime()
		switch e.GetMethod() {
		case objectv1.TimestampQueryMethod_TIMESTAMP_QUERY_METHOD_GREATER,
			objectv1.TimestampQueryMethod_TIMESTAMP_QUERY_METHOD_GREATER_OR_EQUALS:
			// ZITADEL includes sessions without expiry here: the active ones.
			n = in.ActiveSessions(t)
		case objectv1.TimestampQueryMethod_TIMESTAMP_QUERY_METHOD_LESS,
			objectv1.TimestampQueryMethod_TIMESTAMP_QUERY_METHOD_LESS_OR_EQUALS:
			n = in.sessionsExpiringBy(t)
		default:
			return nil, status.Errorf(codes.Unimplemented, "expiration method %s", e.GetMethod())
		}
	}
	w := v2Window(ss.s, sessionpb.SessionService_ListSessions_FullMethodName, req.GetQuery())
	return &sessionpb.ListSessionsResponse{Details: v2Details(w, n)}, nil
}

type actionService struct {
	actionpb.UnimplementedActionServiceServer
	s *Server
}

func (a actionService) ListTargets(ctx context.Context, req *actionpb.ListTargetsRequest) (*actionpb.ListTargetsResponse, error) {
	w, err := a.s.paginationWindow(actionpb.ActionService_ListTargets_FullMethodName, req.GetPagination())
	if err != nil {
		return nil, err
	}
	return &actionpb.ListTargetsResponse{Pagination: paginationResponse(w, infoFrom(ctx).inst.Targets)}, nil
}

func (a actionService) ListExecutions(ctx context.Context, req *actionpb.ListExecutionsRequest) (*actionpb.ListExecutionsResponse, error) {
	w, err := a.s.paginationWindow(actionpb.ActionService_ListExecutions_FullMethodName, req.GetPagination())
	if err != nil {
		return nil, err
	}
	return &actionpb.ListExecutionsResponse{Pagination: paginationResponse(w, infoFrom(ctx).inst.Executions)}, nil
}

type systemService struct {
	systempb.UnimplementedSystemServiceServer
	s *Server
}

func (sys systemService) ListInstances(_ context.Context, req *systempb.ListInstancesRequest) (*systempb.ListInstancesResponse, error) {
	instances := sys.s.ds.Instances
	w := v1Window(sys.s, systempb.SystemService_ListInstances_FullMethodName, req.GetQuery())
	from, to := w.rows(len(instances))
	result := make([]*instancepb.Instance, 0, to-from)
	for _, in := range instances[from:to] {
		result = append(result, &instancepb.Instance{
			Id:      in.ID,
			Details: &objectv1.ObjectDetails{CreationDate: timestamppb.New(in.CreatedAt)},
			Version: sys.s.ds.Version,
			Domains: instanceDomains(in),
		})
	}
	return &systempb.ListInstancesResponse{Details: v1Details(w, instanceDomainRows(instances)), Result: result}, nil
}

// instanceDomainRows is the total ZITADEL's ListInstances reports: its count
// is taken over instances joined with their domains, before DISTINCT, so an
// instance counts once per domain (once without one).
func instanceDomainRows(instances []*Instance) int {
	n := 0
	for _, in := range instances {
		n += max(1, len(in.Domains))
	}
	return n
}
