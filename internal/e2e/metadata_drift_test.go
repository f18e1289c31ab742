package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// everyMetricTemplate runs every component at once: the zitadel receiver on
// the API with its activity and on the database, both exporters' kinds of
// endpoint (a reference endpoint, and this collector's own zitadeltelemetry
// receiver), each data pipeline into a Prometheus exporter and an OTLP sink,
// and the collector's own metrics with Prometheus' unit and type suffixes.
var everyMetricTemplate = template.Must(template.New("every").Parse(receiverYAML + activityYAML + `  zitadel/database:
    source: database
    collection_interval: 1h
    initial_delay: 0s
    database:
      dsn: ${env:ZITADEL_E2E_DATABASE_DSN}
  zitadeltelemetry:
    http:
      endpoint: {{.ReceiverAddr}}
      path: /zitadel/ping
      path_secret: ` + pathSecret + `
    report_ids:
      key: e2e-report-key-of-the-metadata-run
exporters:
  prometheus/scraped:
    endpoint: {{.ScrapedProm}}
  prometheus/received:
    endpoint: {{.ReceivedProm}}
  otlp_http/scraped:
    endpoint: {{.ScrapedOTLP}}
  otlp_http/received:
    endpoint: {{.ReceivedOTLP}}
  zitadeltelemetry:
    endpoint: {{.TelemetryURL}}/api/ping
    bulk_size: 40
  zitadeltelemetry/own:
    endpoint: http://{{.ReceiverAddr}}/zitadel/ping/` + pathSecret + `
  debug:
    verbosity: basic
service:
  telemetry:
    metrics:
      level: normal
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{.TelemetryPort}}
                without_units: false
                without_type_suffix: false
  pipelines:
    metrics/api:
      receivers: [zitadel]
      exporters: [prometheus/scraped, otlp_http/scraped, zitadeltelemetry, zitadeltelemetry/own]
    metrics/database:
      receivers: [zitadel/database]
      exporters: [debug]
    metrics/received:
      receivers: [zitadeltelemetry]
      exporters: [prometheus/received, otlp_http/received]
`))

type everyMetricValues struct {
	Interval                                             time.Duration
	ZitadelAddr, KeyFile, TelemetryURL, ReceiverAddr     string
	ScrapedProm, ReceivedProm, ScrapedOTLP, ReceivedOTLP string
	TelemetryPort                                        string
}

// TestEveryMetricMatchesItsMetadata holds every metric of the three
// components, their data and their own, to the metadata.yaml each is
// documented in (and documentation.md generated from): the name, the
// kind, the unit and the description, as the built collector shows them.
// The data metrics are read twice: from the Prometheus exporter (# HELP and
// # TYPE, the unit as the name's suffix) and as OTLP, which carries the unit
// Prometheus has no suffix for ({login}, {resource}). The own metrics are
// read from the collector's Prometheus endpoint, where mdatagen's builders
// add the stability to the description. Each metric must appear: the run
// makes ZITADEL throttle, the endpoint refuse a report id, and a client send
// a page with an id nobody issued.
func TestEveryMetricMatchesItsMetadata(t *testing.T) {
	receiver := readMetadata(t, "zitadelreceiver")
	exporter := readMetadata(t, "zitadelexporter")
	telemetryReceiver := readMetadata(t, "zitadeltelemetryreceiver")

	d := zitadeldbtest.New(t)
	d.AddInstance(t, "313000000000000001", time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC), "login.example.com")
	d.AddSystemEvent(t, "system.id.generated", `{"id": "e2e-metadata-system"}`)
	d.SetupRun(t, "v4.13.1")
	t.Setenv("ZITADEL_E2E_DATABASE_DSN", d.DSN)

	dir := t.TempDir()
	zitadel, keyFile := startZitadel(t, dir, 5, fakezitadel.Options{})
	sampleActivityWrites(map[string]fakezitadel.SampleActivity{})(zitadel)
	zitadel.FailCalls("", codes.ResourceExhausted, 2)
	endpoint := telemetryserver.New(telemetryserver.Options{})
	endpoint.ExpireNext(1)
	require.NoError(t, endpoint.Start("127.0.0.1:0", ""))
	t.Cleanup(func() { endpoint.Close() })
	scrapedOTLP, receivedOTLP := startOTLPSink(t), startOTLPSink(t)
	own, ownPort := ownMetricsPort(t)
	v := everyMetricValues{
		Interval: time.Hour, ZitadelAddr: zitadel.GRPCAddr(), KeyFile: keyFile, TelemetryURL: endpoint.HTTPURL(),
		ReceiverAddr: freeAddr(t), ScrapedProm: freeAddr(t), ReceivedProm: freeAddr(t),
		ScrapedOTLP: scrapedOTLP.url, ReceivedOTLP: receivedOTLP.url, TelemetryPort: ownPort,
	}
	path := filepath.Join(dir, "every.yaml")
	writeConfig(t, path, everyMetricTemplate, v)
	c := startCollector(t, collectorBinary(t), path)
	waitForListener(t, c, v.ReceiverAddr)
	refuseUnknownReportID(t, "http://"+v.ReceiverAddr+"/zitadel/ping/"+pathSecret)

	ownWant := map[string]promFamily{}
	for _, md := range []componentMetadata{receiver, exporter, telemetryReceiver} {
		for name, m := range md.Telemetry.Metrics {
			ownWant[m.promName("otelcol_"+name)] = promFamily{typ: m.promType(), help: m.Description + " [" + m.stabilityWord() + "]"}
		}
	}
	sources := []struct {
		what   string
		url    string
		prefix string
		want   map[string]promFamily
	}{
		{"the zitadel receiver's data (prometheus exporter)", "http://" + v.ScrapedProm + "/metrics", "zitadel_", receiver.dataFamilies()},
		{"the zitadeltelemetry receiver's data (prometheus exporter)", "http://" + v.ReceivedProm + "/metrics", "zitadel_", telemetryReceiver.dataFamilies()},
		{"the components' own metrics (service telemetry)", "http://" + own + "/metrics", "otelcol_zitadel", ownWant},
	}
	deadline := time.Now().Add(90 * time.Second)
	for _, s := range sources {
		var got map[string]promFamily
		for {
			got = readFamilies(t, s.url, s.prefix)
			if hasEvery(got, s.want) || time.Now().After(deadline) {
				break
			}
			if !c.running() {
				t.Fatalf("collector exited: %v", c.err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		require.Equal(t, s.want, got, "%s differ from metadata.yaml", s.what)
	}
	for _, s := range []struct {
		sink *otlpSink
		md   componentMetadata
	}{{scrapedOTLP, receiver}, {receivedOTLP, telemetryReceiver}} {
		want := s.md.dataShapes()
		var got map[string]otlpShape
		for {
			batches, _ := s.sink.snapshot()
			got = otlpShapes(batches)
			if len(got) >= len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		require.Equal(t, want, got, "%s: the metrics as OTLP differ from metadata.yaml", s.md.dir)
	}
	require.NoError(t, c.terminate(15*time.Second))
}

// refuseUnknownReportID sends the receiver a page naming a report id it
// never issued, which it refuses as ZITADEL does a page of no report it
// began: 412.
func refuseUnknownReportID(t *testing.T, endpoint string) {
	t.Helper()
	body, err := protojson.Marshal(&analytics.ReportResourceCountsRequest{SystemId: systemID, ReportId: proto.String("zr1.0.AAAA.AAAA")})
	require.NoError(t, err)
	resp, err := newHTTPClient(t).Post(endpoint+"/resource_counts", "application/json", bytes.NewReader(body))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
}

// componentMetadata is what a metadata.yaml says about metrics.
type componentMetadata struct {
	dir       string
	Metrics   map[string]metadataMetric `mapstructure:"metrics"`
	Telemetry struct {
		Metrics map[string]metadataMetric `mapstructure:"metrics"`
	} `mapstructure:"telemetry"`
}

type metadataMetric struct {
	Description string `mapstructure:"description"`
	Unit        string `mapstructure:"unit"`
	Stability   string `mapstructure:"stability"`
	Sum         *struct {
		ValueType string `mapstructure:"value_type"`
		Monotonic bool   `mapstructure:"monotonic"`
	} `mapstructure:"sum"`
	Gauge *struct {
		ValueType string `mapstructure:"value_type"`
	} `mapstructure:"gauge"`
	Histogram *struct {
		ValueType string `mapstructure:"value_type"`
	} `mapstructure:"histogram"`
}

func readMetadata(t *testing.T, dir string) componentMetadata {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("..", "..", dir, "metadata.yaml"))
	require.NoError(t, err)
	md := componentMetadata{dir: dir}
	require.NoError(t, cm.Unmarshal(&md, confmap.WithIgnoreUnused()))
	require.NotEmpty(t, md.Telemetry.Metrics, "%s documents no own metrics", dir)
	return md
}

// promType is the metric's Prometheus type: a monotonic sum is a counter,
// a non-monotonic sum (an UpDownCounter) a gauge.
func (m metadataMetric) promType() string {
	switch {
	case m.Sum != nil && m.Sum.Monotonic:
		return "counter"
	case m.Histogram != nil:
		return "histogram"
	default:
		return "gauge"
	}
}

// promName is the name Prometheus gives the metric with unit and type
// suffixes: the unit's word ({call} and the other annotations have none),
// then _total for a counter.
func (m metadataMetric) promName(name string) string {
	name = strings.ReplaceAll(name, ".", "_")
	switch {
	case m.Unit == "s":
		name += "_seconds"
	case m.Unit != "" && !strings.HasPrefix(m.Unit, "{"):
		panic(fmt.Sprintf("unit %q of %s: say which suffix Prometheus gives it", m.Unit, name))
	}
	if m.promType() == "counter" {
		name += "_total"
	}
	return name
}

// stabilityWord is the stability as mdatagen appends it to a description.
func (m metadataMetric) stabilityWord() string {
	return strings.ToUpper(m.Stability[:1]) + m.Stability[1:]
}

func (md componentMetadata) dataFamilies() map[string]promFamily {
	out := map[string]promFamily{}
	for name, m := range md.Metrics {
		out[m.promName(name)] = promFamily{typ: m.promType(), help: m.Description}
	}
	return out
}

// otlpShape is a metric as OTLP carries it.
type otlpShape struct {
	Type, Unit, Description string
	Monotonic               bool
}

func (md componentMetadata) dataShapes() map[string]otlpShape {
	out := map[string]otlpShape{}
	for name, m := range md.Metrics {
		s := otlpShape{Unit: m.Unit, Description: m.Description, Type: "Gauge"}
		if m.Sum != nil {
			s.Type, s.Monotonic = "Sum", m.Sum.Monotonic
		}
		out[name] = s
	}
	return out
}

func otlpShapes(batches []pmetric.Metrics) map[string]otlpShape {
	out := map[string]otlpShape{}
	for _, md := range batches {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					s := otlpShape{Type: m.Type().String(), Unit: m.Unit(), Description: m.Description()}
					if m.Type() == pmetric.MetricTypeSum {
						s.Monotonic = m.Sum().IsMonotonic()
					}
					out[m.Name()] = s
				}
			}
		}
	}
	return out
}

// promFamily is a metric family's # TYPE and # HELP.
type promFamily struct{ typ, help string }

// readFamilies reads the # HELP and # TYPE lines of the families whose name
// starts with prefix.
func readFamilies(t *testing.T, url, prefix string) map[string]promFamily {
	t.Helper()
	m, err := readExposition(url)
	if err != nil {
		return nil // the endpoint opens while the collector starts
	}
	out := map[string]promFamily{}
	for _, line := range strings.Split(m.text, "\n") {
		for _, kind := range []string{"# HELP ", "# TYPE "} {
			rest, ok := strings.CutPrefix(line, kind)
			if !ok || !strings.HasPrefix(rest, prefix) {
				continue
			}
			name, text, _ := strings.Cut(rest, " ")
			f := out[name]
			if kind == "# HELP " {
				f.help = strings.NewReplacer(`\\`, `\`, `\n`, "\n").Replace(text)
			} else {
				f.typ = text
			}
			out[name] = f
		}
	}
	return out
}

func hasEvery(got, want map[string]promFamily) bool {
	for name := range want {
		if _, ok := got[name]; !ok {
			return false
		}
	}
	return true
}
