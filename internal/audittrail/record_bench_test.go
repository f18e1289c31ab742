package audittrail

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
)

// BenchmarkMapPage maps one page of 1,000 events (eight in ten
// oidc_session.added, whose payload fields the named cases include), the
// work the trail adds to every event read.
func BenchmarkMapPage(b *testing.B) {
	for _, bc := range []struct {
		name    string
		payload map[string][]string
		key     string
	}{
		{name: "identity_only"},
		{name: "named_payload", payload: map[string][]string{"oidc_session.added": {"clientID", "authMethods"}}},
		{name: "pseudonymous", payload: map[string][]string{"oidc_session.added": {"userID"}}, key: "0123456789abcdef0123456789abcdef"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			src := newMemReader(1000, testInstance)
			cfg := NewDefaultConfig()
			cfg.Payload = bc.payload
			cfg.IDHashKey = configKey(bc.key)
			page, err := src.Read(b.Context(), queryOf(&cfg, testInstance))
			if err != nil {
				b.Fatal(err)
			}
			m := NewMapper(&cfg)
			b.ReportAllocs()
			for b.Loop() {
				logs := plog.NewLogs()
				m.Append(logs, testInstance, page.Events, testObserved)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(page.Events)), "ns/event")
		})
	}
}
