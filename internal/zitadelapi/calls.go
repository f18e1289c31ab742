package zitadelapi

import (
	"context"
	"math"
	"time"

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
	sessionpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/session/v2"
	systempb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/system"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)

// Every count asks for one row and reads the total of all matching rows.
// Never send a limit of 0: v1 and object.v2 lists read that as "no limit".
func countQueryV1() *objectv1.ListQuery { return &objectv1.ListQuery{Limit: 1} }
func countQueryV2() *objectv2.ListQuery { return &objectv2.ListQuery{Limit: 1} }
func countPagination() *filterpb.PaginationRequest {
	return &filterpb.PaginationRequest{Limit: 1}
}

func total(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

func (c *client) getMyInstance(ctx context.Context, sc scope) (*instancepb.InstanceDetail, error) {
	resp := &adminpb.GetMyInstanceResponse{}
	err := c.call(ctx, sc, adminpb.AdminService_GetMyInstance_FullMethodName, &adminpb.GetMyInstanceRequest{}, resp)
	return resp.GetInstance(), err
}

// listInstances returns one page of the system API's instances, oldest first.
func (c *client) listInstances(ctx context.Context, offset uint64, limit uint32) ([]*instancepb.Instance, uint64, error) {
	req := &systempb.ListInstancesRequest{
		Query:         &objectv1.ListQuery{Offset: offset, Limit: limit, Asc: true},
		SortingColumn: instancepb.FieldName_FIELD_NAME_CREATION_DATE,
	}
	resp := &systempb.ListInstancesResponse{}
	err := c.call(ctx, scope{}, systempb.SystemService_ListInstances_FullMethodName, req, resp)
	return resp.GetResult(), resp.GetDetails().GetTotalResult(), err
}

// listOrganizations returns one page of organization ids, by name.
func (c *client) listOrganizations(ctx context.Context, sc scope, offset uint64, limit uint32) ([]*orgpb.Organization, uint64, error) {
	req := &orgpb.ListOrganizationsRequest{
		Query:         &objectv2.ListQuery{Offset: offset, Limit: limit, Asc: true},
		SortingColumn: orgpb.OrganizationFieldName_ORGANIZATION_FIELD_NAME_NAME,
	}
	resp := &orgpb.ListOrganizationsResponse{}
	err := c.call(ctx, sc, orgpb.OrganizationService_ListOrganizations_FullMethodName, req, resp)
	return resp.GetResult(), resp.GetDetails().GetTotalResult(), err
}

func (c *client) countOrganizations(ctx context.Context, sc scope) (int64, error) {
	_, n, err := c.listOrganizations(ctx, sc, 0, 1)
	return total(n), err
}

func (c *client) countIAMAdmins(ctx context.Context, sc scope) (int64, error) {
	resp := &adminpb.ListIAMMembersResponse{}
	err := c.call(ctx, sc, adminpb.AdminService_ListIAMMembers_FullMethodName,
		&adminpb.ListIAMMembersRequest{Query: countQueryV1()}, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}

// countInstanceIdPs counts the identity providers the instance owns.
func (c *client) countInstanceIdPs(ctx context.Context, sc scope) (int64, error) {
	resp := &adminpb.ListProvidersResponse{}
	err := c.call(ctx, sc, adminpb.AdminService_ListProviders_FullMethodName,
		&adminpb.ListProvidersRequest{Query: countQueryV1()}, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}

func (c *client) countExecutions(ctx context.Context, sc scope) (int64, error) {
	resp := &actionpb.ListExecutionsResponse{}
	err := c.call(ctx, sc, actionpb.ActionService_ListExecutions_FullMethodName,
		&actionpb.ListExecutionsRequest{Pagination: countPagination()}, resp)
	return total(resp.GetPagination().GetTotalResult()), err
}

func (c *client) countTargets(ctx context.Context, sc scope) (int64, error) {
	resp := &actionpb.ListTargetsResponse{}
	err := c.call(ctx, sc, actionpb.ActionService_ListTargets_FullMethodName,
		&actionpb.ListTargetsRequest{Pagination: countPagination()}, resp)
	return total(resp.GetPagination().GetTotalResult()), err
}

// countActiveSessions counts sessions that expire after now or never.
func (c *client) countActiveSessions(ctx context.Context, sc scope, now time.Time) (int64, error) {
	req := &sessionpb.ListSessionsRequest{
		Query: countQueryV2(),
		Queries: []*sessionpb.SearchQuery{{Query: &sessionpb.SearchQuery_ExpirationDateQuery{
			ExpirationDateQuery: &sessionpb.ExpirationDateQuery{
				ExpirationDate: timestamppb.New(now),
				Method:         objectv1.TimestampQueryMethod_TIMESTAMP_QUERY_METHOD_GREATER,
			},
		}}},
	}
	resp := &sessionpb.ListSessionsResponse{}
	err := c.call(ctx, sc, sessionpb.SessionService_ListSessions_FullMethodName, req, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}

// countUsers counts the instance's users, or one organization's when orgID
// is set; machine restricts it to service users.
func (c *client) countUsers(ctx context.Context, sc scope, orgID string, machine bool) (int64, error) {
	f := userFilter{orgID: orgID}
	if machine {
		f.userType = userpb.Type_TYPE_MACHINE
	}
	return c.countUsersWhere(ctx, sc, f)
}

// userFilter narrows a user count; a zero field does not filter.
type userFilter struct {
	orgID    string
	userType userpb.Type
	state    userpb.UserState
}

// countUsersWhere counts the users the filter matches; ZITADEL ANDs the queries.
func (c *client) countUsersWhere(ctx context.Context, sc scope, f userFilter) (int64, error) {
	req := &userpb.ListUsersRequest{Query: countQueryV2()}
	if f.orgID != "" {
		req.Queries = append(req.Queries, &userpb.SearchQuery{Query: &userpb.SearchQuery_OrganizationIdQuery{
			OrganizationIdQuery: &userpb.OrganizationIdQuery{OrganizationId: f.orgID},
		}})
	}
	if f.userType != userpb.Type_TYPE_UNSPECIFIED {
		req.Queries = append(req.Queries, &userpb.SearchQuery{Query: &userpb.SearchQuery_TypeQuery{
			TypeQuery: &userpb.TypeQuery{Type: f.userType},
		}})
	}
	if f.state != userpb.UserState_USER_STATE_UNSPECIFIED {
		req.Queries = append(req.Queries, &userpb.SearchQuery{Query: &userpb.SearchQuery_StateQuery{
			StateQuery: &userpb.StateQuery{State: f.state},
		}})
	}
	resp := &userpb.ListUsersResponse{}
	err := c.call(ctx, sc, userpb.UserService_ListUsers_FullMethodName, req, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}

// listProjects returns one page of the ids of the projects sc.orgID owns.
func (c *client) listProjects(ctx context.Context, sc scope, offset uint64, limit uint32) ([]string, uint64, error) {
	resp := &mgmtpb.ListProjectsResponse{}
	err := c.call(ctx, sc, mgmtpb.ManagementService_ListProjects_FullMethodName,
		&mgmtpb.ListProjectsRequest{Query: &objectv1.ListQuery{Offset: offset, Limit: limit}}, resp)
	ids := make([]string, 0, len(resp.GetResult()))
	for _, p := range resp.GetResult() {
		ids = append(ids, p.GetId())
	}
	return ids, resp.GetDetails().GetTotalResult(), err
}

func (c *client) countProjects(ctx context.Context, sc scope) (int64, error) {
	_, n, err := c.listProjects(ctx, sc, 0, 1)
	return total(n), err
}

func (c *client) countApps(ctx context.Context, sc scope, projectID string) (int64, error) {
	resp := &mgmtpb.ListAppsResponse{}
	err := c.call(ctx, sc, mgmtpb.ManagementService_ListApps_FullMethodName,
		&mgmtpb.ListAppsRequest{ProjectId: projectID, Query: countQueryV1()}, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}

func (c *client) countUserGrants(ctx context.Context, sc scope) (int64, error) {
	resp := &mgmtpb.ListUserGrantResponse{}
	err := c.call(ctx, sc, mgmtpb.ManagementService_ListUserGrants_FullMethodName,
		&mgmtpb.ListUserGrantRequest{Query: countQueryV1()}, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}

// countOrgIdPs counts the identity providers the organization owns; without
// the owner filter ZITADEL would add the instance's.
func (c *client) countOrgIdPs(ctx context.Context, sc scope) (int64, error) {
	req := &mgmtpb.ListProvidersRequest{
		Query: countQueryV1(),
		Queries: []*mgmtpb.ProviderQuery{{Query: &mgmtpb.ProviderQuery_OwnerTypeQuery{
			OwnerTypeQuery: &idppb.IDPOwnerTypeQuery{OwnerType: idppb.IDPOwnerType_IDP_OWNER_TYPE_ORG},
		}}},
	}
	resp := &mgmtpb.ListProvidersResponse{}
	err := c.call(ctx, sc, mgmtpb.ManagementService_ListProviders_FullMethodName, req, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}

func (c *client) countActions(ctx context.Context, sc scope) (int64, error) {
	resp := &mgmtpb.ListActionsResponse{}
	err := c.call(ctx, sc, mgmtpb.ManagementService_ListActions_FullMethodName,
		&mgmtpb.ListActionsRequest{Query: countQueryV1()}, resp)
	return total(resp.GetDetails().GetTotalResult()), err
}
