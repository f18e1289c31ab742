package fakezitadel

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	actionpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/action/v2"
	filterpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/filter/v2"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	objectv1 "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
	objectv2 "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object/v2"
	orgpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/org/v2"
	systempb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/system"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const pat = "test-pat"

func start(t *testing.T, opts Options) (*Server, *grpc.ClientConn) {
	t.Helper()
	return startSpec(t, DefaultSpec(), opts)
}

func startSpec(t *testing.T, spec Spec, opts Options) (*Server, *grpc.ClientConn) {
	t.Helper()
	if opts.PATs == nil {
		opts.PATs = map[string]string{pat: ""}
	}
	srv := NewServer(Generate(spec), opts)
	require.NoError(t, srv.Start("127.0.0.1:0", "127.0.0.1:0"))
	t.Cleanup(srv.Close)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return srv, conn
}

func withToken(tok string, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), append([]string{"authorization", "Bearer " + tok}, kv...)...)
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(DefaultSpec()), Generate(DefaultSpec())
	assert.Equal(t, a.ExpectedCounts(), b.ExpectedCounts())
	assert.Equal(t, a.ExpectedInstances(), b.ExpectedInstances())
	other := DefaultSpec()
	other.Seed = 2
	assert.NotEqual(t, a.ExpectedCounts(), Generate(other).ExpectedCounts())
}

func TestLimitZeroReturnsEverythingAndIsRecorded(t *testing.T) {
	srv, conn := start(t, Options{})
	orgs := orgpb.NewOrganizationServiceClient(conn)

	resp, err := orgs.ListOrganizations(withToken(pat), &orgpb.ListOrganizationsRequest{Query: &objectv2.ListQuery{}})
	require.NoError(t, err)
	assert.Len(t, resp.GetResult(), len(srv.Dataset().Instances[0].Orgs), "limit 0 means no limit")
	_, err = orgs.ListOrganizations(withToken(pat), &orgpb.ListOrganizationsRequest{})
	require.NoError(t, err)
	assert.Equal(t, []string{
		orgpb.OrganizationService_ListOrganizations_FullMethodName,
		orgpb.OrganizationService_ListOrganizations_FullMethodName,
	}, srv.ZeroLimitRequests())

	srv.ResetStats()
	_, err = orgs.ListOrganizations(withToken(pat), &orgpb.ListOrganizationsRequest{Query: &objectv2.ListQuery{Limit: 1}})
	require.NoError(t, err)
	assert.Empty(t, srv.ZeroLimitRequests())
}

func TestCountsAndPages(t *testing.T) {
	spec := DefaultSpec()
	spec.OrgsPerInstance = 10
	srv, conn := startSpec(t, spec, Options{})
	var org *Org
	for _, o := range srv.Dataset().Instances[0].Orgs {
		if o.Grants > 0 && len(o.Projects) > 1 {
			org = o
		}
	}
	require.NotNil(t, org, "the default dataset has an organization with grants and projects")
	users := userpb.NewUserServiceClient(conn)
	mgmt := mgmtpb.NewManagementServiceClient(conn)

	count := func(queries ...*userpb.SearchQuery) uint64 {
		resp, err := users.ListUsers(withToken(pat), &userpb.ListUsersRequest{Query: &objectv2.ListQuery{Limit: 1}, Queries: queries})
		require.NoError(t, err)
		return resp.GetDetails().GetTotalResult()
	}
	byOrg := &userpb.SearchQuery{Query: &userpb.SearchQuery_OrganizationIdQuery{OrganizationIdQuery: &userpb.OrganizationIdQuery{OrganizationId: org.ID}}}
	machines := &userpb.SearchQuery{Query: &userpb.SearchQuery_TypeQuery{TypeQuery: &userpb.TypeQuery{Type: userpb.Type_TYPE_MACHINE}}}
	assert.Equal(t, uint64(org.Users), count(byOrg))
	assert.Equal(t, uint64(org.Machines), count(byOrg, machines))

	ctx := withToken(pat, headerOrgID, org.ID)
	projects, err := mgmt.ListProjects(ctx, &mgmtpb.ListProjectsRequest{Query: &objectv1.ListQuery{Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, uint64(len(org.Projects)), projects.GetDetails().GetTotalResult())
	assert.Len(t, projects.GetResult(), 1)

	past, err := mgmt.ListUserGrants(ctx, &mgmtpb.ListUserGrantRequest{Query: &objectv1.ListQuery{Offset: uint64(org.Grants), Limit: 1}})
	require.NoError(t, err)
	assert.Zero(t, past.GetDetails().GetTotalResult(), "a page past the end carries no count")
}

func TestPaginationLimits(t *testing.T) {
	srv, conn := start(t, Options{})
	actions := actionpb.NewActionServiceClient(conn)

	_, err := actions.ListTargets(withToken(pat), &actionpb.ListTargetsRequest{Pagination: &filterpb.PaginationRequest{Limit: 1001}})
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	resp, err := actions.ListTargets(withToken(pat), &actionpb.ListTargetsRequest{})
	require.NoError(t, err)
	assert.Equal(t, uint64(srv.Dataset().Instances[0].Targets), resp.GetPagination().GetTotalResult())
	assert.Equal(t, uint64(defaultQueryLimit), resp.GetPagination().GetAppliedLimit())
	assert.Equal(t, []string{actionpb.ActionService_ListTargets_FullMethodName}, srv.ZeroLimitRequests())
}

func TestRouting(t *testing.T) {
	srv, conn := start(t, Options{})
	mgmt := mgmtpb.NewManagementServiceClient(conn)
	q := &mgmtpb.ListActionsRequest{Query: &objectv1.ListQuery{Limit: 1}}

	_, err := mgmt.ListActions(withToken(pat), q)
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "management calls need x-zitadel-orgid")
	_, err = mgmt.ListActions(withToken(pat, headerOrgID, "123"), q)
	assert.Equal(t, codes.NotFound, status.Code(err))
	_, err = mgmt.ListActions(withToken(pat, headerInstanceHost, "unknown.example.com"), q)
	assert.Equal(t, codes.NotFound, status.Code(err))

	second := srv.Dataset().Instances[1]
	_, err = mgmt.ListActions(withToken(pat, headerInstanceHost, second.PrimaryDomain(), headerOrgID, second.Orgs[0].ID), q)
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "a user's token is valid in its own instance only")

	srv.VanishOrg(srv.Dataset().Instances[0].Orgs[0].ID)
	_, err = mgmt.ListActions(withToken(pat, headerOrgID, srv.Dataset().Instances[0].Orgs[0].ID), q)
	assert.Equal(t, codes.NotFound, status.Code(err))
}

func TestSwitches(t *testing.T) {
	srv, conn := start(t, Options{})
	users := userpb.NewUserServiceClient(conn)
	req := &userpb.ListUsersRequest{Query: &objectv2.ListQuery{Limit: 1}}

	srv.FailCalls(userpb.UserService_ListUsers_FullMethodName, codes.ResourceExhausted, 2)
	for range 2 {
		_, err := users.ListUsers(withToken(pat), req)
		assert.Equal(t, codes.ResourceExhausted, status.Code(err))
	}
	_, err := users.ListUsers(withToken(pat), req)
	require.NoError(t, err, "the burst is over")

	srv.Deny(userpb.UserService_ListUsers_FullMethodName)
	_, err = users.ListUsers(withToken(pat), req)
	assert.Equal(t, codes.PermissionDenied, status.Code(err))

	srv.SetAuthFailure(codes.Unauthenticated)
	_, err = users.ListUsers(withToken(pat), req)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))

	srv.SetAuthFailure(codes.OK)
	srv.SetLatency(30 * time.Millisecond)
	started := time.Now()
	_, _ = users.ListUsers(withToken(pat), req)
	assert.GreaterOrEqual(t, time.Since(started), 30*time.Millisecond)
	assert.Equal(t, int64(6), srv.Calls(userpb.UserService_ListUsers_FullMethodName))
}

func TestSystemAPIAcceptsOnlySystemUsers(t *testing.T) {
	pemKey, pub, err := NewSystemUserKey()
	require.NoError(t, err)
	srv, conn := start(t, Options{SystemUsers: map[string]*rsa.PublicKey{"sys": pub}})
	system := systempb.NewSystemServiceClient(conn)
	req := &systempb.ListInstancesRequest{Query: &objectv1.ListQuery{Limit: 10}}

	_, err = system.ListInstances(withToken(pat), req)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))

	sign := func(claims jwt.RegisteredClaims) string {
		key, err := jwt.ParseRSAPrivateKeyFromPEM(pemKey)
		require.NoError(t, err)
		tok, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(key)
		require.NoError(t, err)
		return tok
	}
	now := time.Now()
	valid := jwt.RegisteredClaims{
		Issuer: "sys", Subject: "sys", Audience: jwt.ClaimStrings{srv.Issuer()},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}
	resp, err := system.ListInstances(withToken(sign(valid)), req)
	require.NoError(t, err)
	assert.Len(t, resp.GetResult(), len(srv.Dataset().Instances))
	// As ZITADEL, the total counts each instance once per domain.
	assert.Equal(t, uint64(2*len(srv.Dataset().Instances)), resp.GetDetails().GetTotalResult())

	wrongAudience := valid
	wrongAudience.Audience = jwt.ClaimStrings{"https://elsewhere.example.com"}
	_, err = system.ListInstances(withToken(sign(wrongAudience)), req)
	assert.Equal(t, codes.Unauthenticated, status.Code(err))

	tooOld := valid
	tooOld.IssuedAt = jwt.NewNumericDate(now.Add(-2 * time.Hour))
	_, err = system.ListInstances(withToken(sign(tooOld)), req)
	assert.Equal(t, codes.Unauthenticated, status.Code(err), "ZITADEL refuses self-signed tokens older than an hour")
}

func TestTokenEndpoint(t *testing.T) {
	keyFile, key, err := NewServiceAccountKey("svc", "kid-1", "")
	require.NoError(t, err)
	srv, conn := start(t, Options{ServiceKeys: []ServiceKey{key}})
	var k struct{ Key, KeyID, UserID string }
	require.NoError(t, json.Unmarshal(keyFile, &k))
	priv, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(k.Key))
	require.NoError(t, err)
	now := time.Now()
	assertion := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.RegisteredClaims{
		Issuer: k.UserID, Subject: k.UserID,
		Audience: jwt.ClaimStrings{srv.Issuer()}, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	})
	assertion.Header["kid"] = k.KeyID
	signed, err := assertion.SignedString(priv)
	require.NoError(t, err)

	exchange := func(scope string) (*http.Response, map[string]any) {
		resp, err := http.PostForm(srv.TokenURL(), url.Values{"grant_type": {grantTypeJWTBearer}, "scope": {scope}, "assertion": {signed}})
		require.NoError(t, err)
		defer resp.Body.Close()
		var body map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
		return resp, body
	}
	resp, body := exchange("openid")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, "invalid_scope", body["error"])

	resp, body = exchange(strings.Join([]string{scopeOpenID, scopeZitadelAPI}, " "))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	tok, _ := body["access_token"].(string)
	require.NotEmpty(t, tok)
	_, err = userpb.NewUserServiceClient(conn).ListUsers(withToken(tok), &userpb.ListUsersRequest{Query: &objectv2.ListQuery{Limit: 1}})
	require.NoError(t, err)
	assert.Equal(t, int64(1), srv.TokenExchanges())

	srv.RevokeTokens()
	_, err = userpb.NewUserServiceClient(conn).ListUsers(withToken(tok), &userpb.ListUsersRequest{Query: &objectv2.ListQuery{Limit: 1}})
	assert.Equal(t, codes.Unauthenticated, status.Code(err))
}
