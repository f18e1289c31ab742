package zitadelapi

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.uber.org/goleak"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

func TestMain(m *testing.M) {
	if serveFakeForBenchmark() {
		return
	}
	goleak.VerifyTestMain(m)
}

const testPAT = "pat-of-a-service-user"

// recorder keeps what a scrape records. It has no lock on purpose: the
// source must serialize recording, and the race detector says if it does not.
type recorder struct {
	instances []model.Instance
	counts    []model.Count
}

func (r *recorder) RecordInstance(in model.Instance) { r.instances = append(r.instances, in) }
func (r *recorder) RecordCount(c model.Count)        { r.counts = append(r.counts, c) }

// countsFor returns the counts of one resource at one level, by parent id.
func (r *recorder) countsFor(parentType, resource string) map[string]int64 {
	out := map[string]int64{}
	for _, c := range r.counts {
		if c.ParentType == parentType && c.Resource == resource {
			out[c.ParentID] = c.Amount
		}
	}
	return out
}

func startFake(t *testing.T, spec fakezitadel.Spec, opts fakezitadel.Options) *fakezitadel.Server {
	t.Helper()
	if opts.PATs == nil {
		opts.PATs = map[string]string{testPAT: ""}
	}
	srv := fakezitadel.NewServer(fakezitadel.Generate(spec), opts)
	require.NoError(t, srv.Start("127.0.0.1:0", "127.0.0.1:0"))
	t.Cleanup(srv.Close)
	return srv
}

// testConfig talks plaintext to srv with the test PAT and retries quickly.
func testConfig(srv *fakezitadel.Server) *Config {
	cfg := NewDefaultConfig()
	cfg.Endpoint = srv.GRPCAddr()
	cfg.TLS.Insecure = true
	cfg.Token = testPAT
	cfg.RequestTimeout = 5 * time.Second
	cfg.Retry.InitialInterval = time.Millisecond
	cfg.Retry.MaxInterval = 5 * time.Millisecond
	return &cfg
}

func startSource(t *testing.T, cfg *Config, filter model.ResourceFilter) *source {
	t.Helper()
	require.NoError(t, cfg.Validate())
	require.NoError(t, cfg.Required())
	s := NewSource(cfg, activity.Config{}, filter, componenttest.NewNopTelemetrySettings()).(*source)
	require.NoError(t, s.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, s.Shutdown(context.Background())) })
	return s
}

func scrape(t *testing.T, s *source) (*recorder, error) {
	t.Helper()
	rec := &recorder{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return rec, s.Scrape(ctx, rec)
}

func sortCounts(cs []model.Count) []model.Count {
	out := append([]model.Count(nil), cs...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.InstanceID != b.InstanceID {
			return a.InstanceID < b.InstanceID
		}
		if a.ParentID != b.ParentID {
			return a.ParentID < b.ParentID
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.UserType+"/"+a.UserState < b.UserType+"/"+b.UserState
	})
	return out
}

// expectedInstances are the dataset's instances as the source reports them.
func expectedInstances(ds *fakezitadel.Dataset, systemID string) []model.Instance {
	out := ds.ExpectedInstances()
	for i := range out {
		out[i].SystemID = systemID
	}
	return out
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}
