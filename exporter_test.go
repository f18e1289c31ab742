package zitadeltelemetry

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/pkg/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configcompression"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fieldshape"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

var updateRequests = flag.Bool("update-requests", false, "rewrite testdata/exporter/mapping/*/requests.json from what the exporter sends")

var allProtocols = []string{ProtocolHTTP, ProtocolConnect, ProtocolGRPC}

func startTelemetryServer(t testing.TB) *telemetryserver.Server {
	t.Helper()
	s := telemetryserver.New(telemetryserver.Options{})
	require.NoError(t, s.Start("127.0.0.1:0", "127.0.0.1:0"))
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// testExporterConfig points the default config at s, without a queue (errors
// come back from ConsumeMetrics) and without retries unless a test wants them.
func testExporterConfig(protocol string, s *telemetryserver.Server) *ExporterConfig {
	cfg := NewExporterFactory().CreateDefaultConfig().(*ExporterConfig)
	cfg.Protocol = protocol
	if protocol == ProtocolGRPC {
		cfg.Endpoint = s.GRPCAddr()
		cfg.GRPC.TLS.Insecure = true
	} else {
		cfg.Endpoint = s.HTTPURL() + "/api/ping"
	}
	cfg.QueueConfig = configoptional.None[exporterhelper.QueueBatchConfig]()
	cfg.RetryConfig.Enabled = false
	return cfg
}

func startExporter(t testing.TB, cfg *ExporterConfig, set exporter.Settings) exporter.Metrics {
	t.Helper()
	exp, err := NewExporterFactory().CreateMetrics(context.Background(), set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, exp.Shutdown(context.Background())) })
	return exp
}

func TestMappingGolden(t *testing.T) {
	tests := []struct {
		name   string
		config func(*ExporterConfig)
	}{
		{"contract", nil},
		{"no_domains", func(c *ExporterConfig) { c.SendDomains = false }},
		{"fallbacks", func(c *ExporterConfig) { c.SystemID, c.Version = "sys-config", "v9.9.9" }},
		{"rejected", nil},
		{"personal_data", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "exporter", "mapping", tt.name)
			md, err := golden.ReadMetrics(filepath.Join(dir, "metrics.yaml"))
			require.NoError(t, err)
			s := startTelemetryServer(t)
			cfg := testExporterConfig(ProtocolHTTP, s)
			if tt.config != nil {
				tt.config(cfg)
			}
			exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))

			got := sentRequestsDocument(t, exp.ConsumeMetrics(context.Background(), md), s.Requests())
			file := filepath.Join(dir, "requests.json")
			if *updateRequests {
				require.NoError(t, os.WriteFile(file, got, 0o600))
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
		})
	}
}

// sentRequestsDocument renders what went over the wire as protojson, in a
// stable layout, with the error the batch ended in.
func sentRequestsDocument(t *testing.T, consumeErr error, reqs []telemetryserver.Request) []byte {
	t.Helper()
	type sent struct {
		Method  string `json:"method"`
		Request any    `json:"request"`
	}
	doc := struct {
		Error     string `json:"error,omitempty"`
		Permanent bool   `json:"permanent,omitempty"`
		Requests  []sent `json:"requests"`
	}{Requests: []sent{}}
	if consumeErr != nil {
		doc.Error, doc.Permanent = consumeErr.Error(), consumererror.IsPermanent(consumeErr)
	}
	for _, r := range reqs {
		var m proto.Message = r.Counts
		if r.Base != nil {
			m = r.Base
		}
		raw, err := protojson.Marshal(m)
		require.NoError(t, err)
		var generic any
		require.NoError(t, json.Unmarshal(raw, &generic))
		doc.Requests = append(doc.Requests, sent{Method: r.Method, Request: generic})
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	require.NoError(t, err)
	return append(out, '\n')
}

func TestEveryTransportEndToEnd(t *testing.T) {
	for _, protocol := range allProtocols {
		for _, compression := range []configcompression.Type{"", configcompression.TypeGzip} {
			t.Run(fmt.Sprintf("%s/compression=%q", protocol, compression), func(t *testing.T) {
				s := startTelemetryServer(t)
				cfg := testExporterConfig(protocol, s)
				cfg.BulkSize = 7
				cfg.HTTP.Compression = compression
				cfg.GRPC.Compression = compression
				exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))

				md := testkit.ContractMetrics("sys-e2e", 3, 4, model.ResourceUser, model.ResourceProject)
				require.NoError(t, exp.ConsumeMetrics(context.Background(), md))

				snap, ok := s.Snapshot("sys-e2e")
				require.True(t, ok)
				assert.Equal(t, "v4.2.0", snap.Version)
				require.Len(t, snap.Instances, 3)
				assert.Equal(t, []string{"i0.zitadel.example"}, snap.Instances[0].Domains)
				assert.Equal(t, testkit.Observed.AddDate(-1, 0, 0), snap.Instances[0].CreatedAt.AsTime())
				require.Len(t, snap.Rows, 3*4*2)
				first := snap.Rows[0]
				assert.Equal(t, "100000000000000000", first.InstanceId)
				assert.Equal(t, "200000000000000000", first.ParentId)
				assert.Equal(t, model.ResourceProject, first.ResourceName)
				assert.Equal(t, "projections.projects", first.TableName)
				assert.Equal(t, uint32(1), first.Amount)
				assert.Equal(t, testkit.Observed, first.UpdatedAt.AsTime())

				reqs := s.Requests()
				require.Len(t, reqs, 1+4, "one base information and ceil(24/7) pages")
				wantTransport := map[string]string{
					ProtocolHTTP:    telemetryserver.TransportHTTP,
					ProtocolConnect: telemetryserver.TransportConnect, ProtocolGRPC: telemetryserver.TransportGRPC,
				}[protocol]
				for _, r := range reqs {
					assert.Equal(t, wantTransport, r.Transport)
					assert.Equal(t, codes.OK, r.Code)
				}
			})
		}
	}
}

func TestPaging(t *testing.T) {
	tests := []struct{ rows, bulkSize, pages int }{
		{rows: 1, bulkSize: 10, pages: 1},
		{rows: 20, bulkSize: 10, pages: 2},
		{rows: 21, bulkSize: 10, pages: 3},
		{rows: 1000, bulkSize: 1, pages: 1000},
		{rows: 500, bulkSize: fieldshape.DefaultBulkSize, pages: 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d rows by %d", tt.rows, tt.bulkSize), func(t *testing.T) {
			s := startTelemetryServer(t)
			cfg := testExporterConfig(ProtocolGRPC, s)
			cfg.BulkSize = tt.bulkSize
			exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))
			require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("sys-1", 1, tt.rows, model.ResourceUser)))

			reqs := s.Requests()
			require.Len(t, reqs, 1+tt.pages)
			require.Equal(t, telemetryserver.MethodBase, reqs[0].Method)
			reportID := reqs[0].ReportID
			require.NotEmpty(t, reportID)
			total := 0
			for _, r := range reqs[1:] {
				require.Equal(t, telemetryserver.MethodCounts, r.Method)
				assert.Equal(t, reportID, r.Counts.GetReportId())
				assert.LessOrEqual(t, len(r.Counts.ResourceCounts), tt.bulkSize)
				total += len(r.Counts.ResourceCounts)
			}
			assert.Equal(t, tt.rows, total)
			snap, _ := s.Snapshot("sys-1")
			assert.Len(t, snap.Rows, tt.rows)
		})
	}
}

func TestSwitchesToTheReportIDTheServerReturns(t *testing.T) {
	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			s := startTelemetryServer(t)
			s.RotateReportIDs(true)
			cfg := testExporterConfig(protocol, s)
			cfg.BulkSize = 2
			exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))
			require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("sys-1", 1, 5, model.ResourceUser)))

			reqs := s.Requests()
			require.Len(t, reqs, 1+3)
			seen := map[string]bool{}
			for i, r := range reqs[1:] {
				assert.Equal(t, reqs[i].ReportID, r.Counts.GetReportId(), "page %d carries the id of the previous answer", i+1)
				assert.False(t, seen[r.Counts.GetReportId()])
				seen[r.Counts.GetReportId()] = true
			}
		})
	}
}

func TestRestartsAReportOnceWhenItsIDExpired(t *testing.T) {
	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			s := startTelemetryServer(t)
			exp := startExporter(t, testExporterConfig(protocol, s), exportertest.NewNopSettings(ExporterType))
			md := testkit.ContractMetrics("sys-1", 2, 3, model.ResourceUser)

			s.ExpireNext(1)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
			assert.Equal(t, []string{
				"ReportBaseInformation OK", "ReportResourceCounts FailedPrecondition",
				"ReportBaseInformation OK", "ReportResourceCounts OK",
			}, callLog(s.Requests()))
			snap, _ := s.Snapshot("sys-1")
			assert.Len(t, snap.Rows, 6)
			assert.Equal(t, 2, snap.Reports)

			s.Reset()
			s.ExpireNext(2)
			err := exp.ConsumeMetrics(context.Background(), md)
			require.Error(t, err)
			assert.True(t, consumererror.IsPermanent(err))
			assert.Contains(t, err.Error(), "refused again after a fresh ReportBaseInformation")
			assert.Equal(t, []string{
				"ReportBaseInformation OK", "ReportResourceCounts FailedPrecondition",
				"ReportBaseInformation OK", "ReportResourceCounts FailedPrecondition",
			}, callLog(s.Requests()))
		})
	}
}

func callLog(reqs []telemetryserver.Request) []string {
	out := make([]string, len(reqs))
	for i, r := range reqs {
		out[i] = r.Method + " " + r.Code.String()
	}
	return out
}

// TestErrorContract injects each answer into the first call of a report and
// checks what the exporter makes of it on every transport.
func TestErrorContract(t *testing.T) {
	tests := []struct {
		code      codes.Code
		permanent bool
		// differsOnHTTP: on ZITADEL's wire only the HTTP status arrives,
		// and ABORTED is 409 there, which ZITADEL's client takes as final.
		differsOnHTTP bool
	}{
		{code: codes.InvalidArgument, permanent: true},
		{code: codes.NotFound, permanent: true},
		{code: codes.Unimplemented, permanent: true},
		{code: codes.AlreadyExists, permanent: true},
		{code: codes.FailedPrecondition, permanent: true}, // on the base information there is no id to renew
		{code: codes.Unauthenticated, permanent: true},
		{code: codes.PermissionDenied, permanent: true},
		{code: codes.Unavailable, permanent: false},
		{code: codes.DeadlineExceeded, permanent: false},
		{code: codes.ResourceExhausted, permanent: false},
		{code: codes.Internal, permanent: false},
		{code: codes.Unknown, permanent: false},
		{code: codes.Aborted, permanent: false, differsOnHTTP: true},
		{code: codes.OutOfRange, permanent: true}, // 400 on ZITADEL's wire
		{code: codes.DataLoss, permanent: false},  // 500 on ZITADEL's wire
	}
	for _, protocol := range allProtocols {
		s := startTelemetryServer(t)
		exp := startExporter(t, testExporterConfig(protocol, s), exportertest.NewNopSettings(ExporterType))
		md := testkit.ContractMetrics("sys-1", 1, 1, model.ResourceUser)
		for _, tt := range tests {
			t.Run(protocol+"/"+tt.code.String(), func(t *testing.T) {
				s.Reset()
				s.Fail(1, tt.code)
				err := exp.ConsumeMetrics(context.Background(), md)
				require.Error(t, err)
				permanent := tt.permanent != (protocol == ProtocolHTTP && tt.differsOnHTTP)
				assert.Equal(t, permanent, consumererror.IsPermanent(err), err.Error())
				assert.Len(t, s.Requests(), 1, "nothing is sent after the failed call")
			})
		}
	}
}

func TestRetryResendsTheWholeReportOfTheFailedSystemOnly(t *testing.T) {
	s := startTelemetryServer(t)
	cfg := testExporterConfig(ProtocolHTTP, s)
	cfg.RetryConfig.Enabled = true
	cfg.RetryConfig.InitialInterval = 10 * time.Millisecond
	cfg.RetryConfig.RandomizationFactor = 0
	exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))

	md := testkit.ContractMetrics("sys-a", 1, 3, model.ResourceUser)
	testkit.ContractMetrics("sys-b", 1, 2, model.ResourceUser).ResourceMetrics().MoveAndAppendTo(md.ResourceMetrics())
	s.Fail(1, codes.Unavailable)
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))

	var systems []string
	for _, r := range s.Requests() {
		id := r.Counts.GetSystemId()
		if r.Base != nil {
			id = r.Base.SystemId
		}
		systems = append(systems, r.Method+" "+id+" "+r.Code.String())
	}
	assert.Equal(t, []string{
		"ReportBaseInformation sys-a Unavailable",
		"ReportBaseInformation sys-b OK", "ReportResourceCounts sys-b OK",
		"ReportBaseInformation sys-a OK", "ReportResourceCounts sys-a OK",
	}, systems)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	for _, protocol := range allProtocols {
		t.Run(protocol, func(t *testing.T) {
			s := startTelemetryServer(t)
			cfg := testExporterConfig(protocol, s)
			cfg.RetryConfig.Enabled = true
			cfg.RetryConfig.InitialInterval = time.Millisecond
			cfg.RetryConfig.RandomizationFactor = 0
			exp := startExporter(t, cfg, exportertest.NewNopSettings(ExporterType))

			s.Fail(1, codes.ResourceExhausted)
			s.SetRetryAfter(time.Second)
			require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("sys-1", 1, 1, model.ResourceUser)))

			reqs := s.Requests()
			require.Len(t, reqs, 3)
			require.Equal(t, codes.ResourceExhausted, reqs[0].Code)
			assert.GreaterOrEqual(t, reqs[1].Received.Sub(reqs[0].Received), time.Second,
				"the retry waited for the server instead of the 1ms backoff")
		})
	}
}

func TestBatchWithoutSystemIDIsPermanent(t *testing.T) {
	s := startTelemetryServer(t)
	exp := startExporter(t, testExporterConfig(ProtocolHTTP, s), exportertest.NewNopSettings(ExporterType))
	err := exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("", 2, 1, model.ResourceUser))
	require.Error(t, err)
	assert.True(t, consumererror.IsPermanent(err))
	assert.Contains(t, err.Error(), "2 resources have no zitadel.system.id attribute and no system_id is configured")
	assert.Empty(t, s.Requests())
}

func TestOtherMetricsWithoutSystemIDAreNoError(t *testing.T) {
	s := startTelemetryServer(t)
	exp := startExporter(t, testExporterConfig(ProtocolHTTP, s), exportertest.NewNopSettings(ExporterType))
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("host.name", "collector-1")
	rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetName("system.cpu.time")
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))
	assert.Empty(t, s.Requests())
}

func TestMetricsOutsideTheContractAreIgnoredAndLogged(t *testing.T) {
	s := startTelemetryServer(t)
	core, logs := observer.New(zapcore.DebugLevel)
	set := exportertest.NewNopSettings(ExporterType)
	set.Logger = zap.New(core)
	exp := startExporter(t, testExporterConfig(ProtocolHTTP, s), set)

	md := testkit.ContractMetrics("sys-1", 1, 1, model.ResourceUser)
	other := md.ResourceMetrics().At(0).ScopeMetrics().AppendEmpty().Metrics()
	other.AppendEmpty().SetName("process.cpu.time")
	other.AppendEmpty().SetName("zitadel.resource.count.other")
	require.NoError(t, exp.ConsumeMetrics(context.Background(), md))

	entries := logs.FilterMessage("Ignoring metrics outside the ZITADEL metric contract").All()
	require.Len(t, entries, 1)
	assert.Equal(t, int64(2), entries[0].ContextMap()["metrics"])
	assert.Equal(t, []any{"process.cpu.time", "zitadel.resource.count.other"}, entries[0].ContextMap()["names"])
	snap, _ := s.Snapshot("sys-1")
	assert.Len(t, snap.Rows, 1)
}

func TestQueueAndDefaultsStartAndDeliver(t *testing.T) {
	// The factory's defaults, queue included, against the reference endpoint.
	s := startTelemetryServer(t)
	cfg := NewExporterFactory().CreateDefaultConfig().(*ExporterConfig)
	cfg.Endpoint = s.HTTPURL()
	require.NoError(t, cfg.Validate())
	exp, err := NewExporterFactory().CreateMetrics(context.Background(), exportertest.NewNopSettings(ExporterType), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, exp.ConsumeMetrics(context.Background(), testkit.ContractMetrics("sys-q", 2, 2, model.ResourceUser)))
	require.NoError(t, exp.Shutdown(context.Background()), "shutdown drains the queue")
	snap, ok := s.Snapshot("sys-q")
	require.True(t, ok)
	assert.Len(t, snap.Rows, 4)
}
