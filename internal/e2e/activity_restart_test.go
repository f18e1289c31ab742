package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// TestActivitySurvivesARestart runs the built collector with the activity
// kept in file_storage, restarts it once, and reads the login counter from
// its Prometheus exporter. Before the restart it counted logins of two hours
// ago and of the last seconds, the latter inside the overlap the next read
// re-reads; while it was down ZITADEL's retention removed the older ones and
// new logins arrived. After the restart the counter holds every login once:
// the re-read ones not twice, the removed ones not lost.
func TestActivitySurvivesARestart(t *testing.T) {
	const old, recent, whileDown = 5, 3, 4
	login := func(s *fakezitadel.Server, at time.Time, n int, prefix string) {
		in := s.Dataset().Instances[0]
		for i := range n {
			s.Write(in.ID, at, func(w *fakezitadel.Writer) {
				w.Login(fakezitadel.Login{
					UserID: fmt.Sprintf("%s-%d", prefix, i), Org: in.Orgs[i%len(in.Orgs)],
					ClientID: fakezitadel.SampleWebClient, AuthMethods: []int{fakezitadel.AuthPassword},
				})
			})
		}
	}
	p := startPipelineWith(t, pipelineOptions{
		config: activityStoredConfig(t.TempDir()), orgsPerInstance: 2,
		values: configValues{Interval: time.Hour}, configureZitadel: func(s *fakezitadel.Server) {
			now := time.Now().UTC()
			login(s, now.Add(-2*time.Hour), old, "old")
			login(s, now.Add(-time.Second), recent, "recent")
		},
	})
	metrics := "http://" + p.promAddr + "/metrics"
	waitForLogins(t, p, metrics, old+recent)

	if err := p.collector.terminate(15 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly on SIGTERM: %v", err)
	}
	p.zitadel.SetAuditLogRetention(time.Hour, time.Now)
	login(p.zitadel, time.Now().UTC(), whileDown, "later")
	p.collector = startCollector(t, collectorBinary(t), p.configPath)

	waitForLogins(t, p, metrics, old+recent+whileDown)
}

// waitForLogins waits for the exporter's first login counts and holds their
// sum to want: a run scrapes once an hour, so the first counts are the
// scrape's only ones.
func waitForLogins(t *testing.T, p *pipeline, url string, want float64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	got := 0.0
	for time.Now().Before(deadline) {
		if !p.collector.running() {
			t.Fatalf("collector exited: %v", p.collector.err)
		}
		if m, err := readExposition(url); err == nil && m.text != "" {
			if got = m.sum("zitadel_logins_total"); got != 0 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != want {
		t.Fatalf("%v logins counted, want %v", got, want)
	}
}
