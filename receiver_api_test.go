package zitadeltelemetry

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/pdatatest/pmetrictest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/scraper/scrapererror"
	"google.golang.org/grpc/codes"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contract"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	mgmtpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/management"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
)

const apiTestdata = "testdata/receiver/api"

func TestAPIReceiverConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join(apiTestdata, "config.yaml"))
	require.NoError(t, err)

	full := createDefaultReceiverConfig().(*ReceiverConfig)
	full.CollectionInterval = 15 * time.Minute
	full.Resources = []string{"user", "project", "application"}
	full.API.Endpoint = "zitadel.example.com:443"
	full.API.TLS.CAFile = "/etc/ssl/certs/zitadel-ca.pem"
	full.API.Headers = configopaque.MapList{{Name: "x-team", Value: "platform"}}
	full.API.Compression = configcompression.TypeGzip
	full.API.Keepalive = configoptional.Some(configgrpc.KeepaliveClientConfig{Time: 30 * time.Second, Timeout: 5 * time.Second})
	full.API.KeyFile = "/etc/otelcol/zitadel-key.json"
	full.API.Issuer = "https://zitadel.example.com"
	full.API.TokenURL = "https://login.example.com/oauth/v2/token"
	full.API.Instances.Hosts = []string{"acme.example.com", "beta.example.com"}
	full.API.PerOrganization = false
	full.API.PageSize = 1000
	full.API.MaxConcurrency = 4
	full.API.RequestsPerSecond = 40
	full.API.RequestTimeout = 10 * time.Second
	full.API.Retry.MaxRetries = 2
	full.API.Retry.InitialInterval = 2 * time.Second
	full.API.Retry.MaxInterval = time.Minute
	full.API.Incremental = true
	full.API.FullScrapeInterval = 12 * time.Hour

	token := createDefaultReceiverConfig().(*ReceiverConfig)
	token.API.Endpoint = "zitadel.example.com:443"
	token.API.Token = "${env:ZITADEL_PAT}" // expanded by the collector, not by LoadConf

	system := createDefaultReceiverConfig().(*ReceiverConfig)
	system.API.Endpoint = "zitadel.internal:8080"
	system.API.TLS.Insecure = true
	system.API.SystemUser = zitadelapi.SystemUserConfig{UserID: "otelcol-reader", KeyFile: "/run/secrets/system-user.pem"}
	system.API.Instances.Discover = true

	runReceiverConfigCases(t, cm, []receiverConfigCase{
		{key: "full", want: full},
		{key: "token", want: token},
		{key: "system_user", want: system},
		{key: "missing_endpoint", errs: []string{"api: endpoint: required, the ZITADEL gRPC address such as zitadel.example.com:443"}},
		{key: "no_credentials", errs: []string{"api: credentials: set one of token, token_file, key_file, system_user or auth"}},
		{key: "two_credentials", errs: []string{"api: credentials: token, key_file are set; set exactly one"}},
		// The collector names the block once, before the block's first problem.
		{key: "conflicts", errs: []string{
			"api: token and token_file: set only one of them",
			"\nsystem_user: user_id and key_file go together",
			"\nsystem_user::user_id: \"Reader\" must be lowercase, as ZITADEL stores system users",
			"\ninstances: set hosts or discover, not both",
		}},
		{key: "discover_without_system_user", errs: []string{
			"api: instances::discover: needs system_user, since only system API users may list instances",
		}},
		{key: "bad_values", errs: []string{
			`api: issuer: "zitadel.example.com" must be an absolute http or https URL`,
			`token_url: "ftp://zitadel.example.com/token" must be an absolute http or https URL`,
			"instances::hosts[0]: empty host",
			`instances::hosts[1]: "https://acme.example.com" must be a host name, not a URL`,
			`instances::hosts[3]: "acme.example.com" is listed twice`,
			"page_size: 1001 is outside 1..1000 (ZITADEL's largest page)",
			"max_concurrency: 0 must be at least 1",
			"requests_per_second: -1 must not be negative (0 means no cap)",
			"request_timeout: 0s must be positive",
			"retry::max_retries: -1 must not be negative",
			"retry: initial_interval (1m0s) must be positive and at most max_interval (1s)",
			"full_scrape_interval: 0s must be positive",
			"audit_log_retention: -1h0m0s must not be negative",
		}},
		{key: "incremental_beyond_retention", errs: []string{
			"api: full_scrape_interval: 24h0m0s is more than half of audit_log_retention (36h0m0s): ZITADEL hides older events " +
				"without an error, so an incremental scrape could miss changes; set full_scrape_interval to at most 18h0m0s",
		}},
		{key: "database_source_with_bad_api_block", errs: []string{"api: page_size: 0 is outside 1..1000"}},
	})
}

const apiTestPAT = "pat-of-the-golden-test"

// startFakeZitadel serves a small deterministic installation: one instance
// of three organizations.
func startFakeZitadel(t *testing.T) *fakezitadel.Server {
	t.Helper()
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := fakezitadel.NewServer(fakezitadel.Generate(spec), fakezitadel.Options{PATs: map[string]string{apiTestPAT: ""}})
	require.NoError(t, srv.Start("127.0.0.1:0", ""))
	t.Cleanup(srv.Close)
	return srv
}

func apiReceiverConfig(srv *fakezitadel.Server) *ReceiverConfig {
	cfg := createDefaultReceiverConfig().(*ReceiverConfig)
	cfg.InitialDelay = 0
	cfg.API.Endpoint = srv.GRPCAddr()
	cfg.API.TLS.Insecure = true
	cfg.API.Token = apiTestPAT
	return cfg
}

// TestAPIReceiverGolden runs the receiver as the collector does, against the
// fake ZITADEL, and compares its first scrape with the golden metrics.
func TestAPIReceiverGolden(t *testing.T) {
	srv := startFakeZitadel(t)
	cfg := apiReceiverConfig(srv)
	require.NoError(t, confmap.Validate(cfg))

	sink := new(consumertest.MetricsSink)
	rcv, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	require.Eventually(t, func() bool { return len(sink.AllMetrics()) > 0 }, 10*time.Second, 10*time.Millisecond)
	got := sink.AllMetrics()[0]

	// The system id is derived from the endpoint, whose port changes per run.
	sum := sha256.Sum256([]byte("zitadel-api:" + cfg.API.Endpoint))
	systemID, ok := got.ResourceMetrics().At(0).Resource().Attributes().Get(contract.ResAttrSystemID)
	require.True(t, ok)
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:]), systemID.Str())
	assert.Empty(t, fieldshape.CheckID(systemID.Str(), fieldshape.MaxSystemIDBytes), "the exporter can send the derived system id")

	path := filepath.Join(apiTestdata, "small.yaml")
	if os.Getenv("ZITADEL_UPDATE_GOLDEN") != "" {
		require.NoError(t, golden.WriteMetrics(t, path, got))
	}
	want, err := golden.ReadMetrics(path)
	require.NoError(t, err)
	require.NoError(t, pmetrictest.CompareMetrics(want, got,
		pmetrictest.IgnoreTimestamp(), pmetrictest.IgnoreStartTimestamp(),
		pmetrictest.IgnoreMetricDataPointsOrder(), pmetrictest.IgnoreResourceAttributeValue(contract.ResAttrSystemID)))
	assert.Empty(t, srv.ZeroLimitRequests())
}

// TestAPIReceiverFailedScrapeEmitsNothing: a user without any role reads
// nothing, and nothing goes down the pipeline, scrape after scrape.
func TestAPIReceiverFailedScrapeEmitsNothing(t *testing.T) {
	srv := fakezitadel.NewServer(fakezitadel.Generate(fakezitadel.DefaultSpec()),
		fakezitadel.Options{PATs: map[string]string{apiTestPAT: ""}, WithoutMembership: []string{apiTestPAT}})
	require.NoError(t, srv.Start("127.0.0.1:0", ""))
	t.Cleanup(srv.Close)
	cfg := apiReceiverConfig(srv)
	cfg.CollectionInterval = 20 * time.Millisecond

	sink := new(consumertest.MetricsSink)
	rcv, err := NewReceiverFactory().CreateMetrics(t.Context(), receivertest.NewNopSettings(ReceiverType), cfg, sink)
	require.NoError(t, err)
	require.NoError(t, rcv.Start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, rcv.Shutdown(context.Background())) })
	// Each scrape makes the one call; the third call means two scrapes have
	// ended and handed on whatever they had.
	require.Eventually(t, func() bool { return srv.Calls(adminpb.AdminService_GetMyInstance_FullMethodName) >= 3 },
		10*time.Second, 5*time.Millisecond)
	assert.Empty(t, sink.AllMetrics())
}

// TestAPIReceiverPartialScrape checks that a failing resource reaches the
// collector as a partial scrape error while every other count is emitted.
func TestAPIReceiverPartialScrape(t *testing.T) {
	srv := startFakeZitadel(t)
	srv.FailCalls(mgmtpb.ManagementService_ListActions_FullMethodName, codes.Internal, -1)
	cfg := apiReceiverConfig(srv)
	cfg.SystemID = "configured-system"
	s := testScraper(t, cfg, componenttest.NewNopTelemetrySettings())
	require.NoError(t, s.start(t.Context(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.shutdown(context.Background())) })

	md, err := s.scrape(t.Context())
	require.Error(t, err)
	assert.True(t, scrapererror.IsPartialScrapeError(err))
	assert.ErrorContains(t, err, "action_v1 failed for 3 organizations")

	require.Equal(t, 1, md.ResourceMetrics().Len())
	rm := md.ResourceMetrics().At(0)
	sys, _ := rm.Resource().Attributes().Get(contract.ResAttrSystemID)
	assert.Equal(t, "configured-system", sys.Str(), "the configured system id wins over the derived one")
	// 8 instance totals, 7 sums over the organizations (no action_v1 sum) and
	// 9 counts for each of 3 organizations.
	assert.Equal(t, 8+7+9*3, rm.ScopeMetrics().At(0).Metrics().At(0).Sum().DataPoints().Len())
}
