package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/servicepingclient"
)

// roundRobinProxy is a plain TCP load balancer: each connection goes to the
// next backend.
type roundRobinProxy struct {
	ln       net.Listener
	backends []string
	next     atomic.Int64
	perBack  []atomic.Int64
	conns    sync.WaitGroup
}

func startRoundRobinProxy(t *testing.T, backends ...string) *roundRobinProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &roundRobinProxy{ln: ln, backends: backends, perBack: make([]atomic.Int64, len(backends))}
	p.conns.Go(func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			i := int(p.next.Add(1)-1) % len(backends)
			p.perBack[i].Add(1)
			p.conns.Go(func() { p.pipe(client, backends[i]) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		p.conns.Wait()
	})
	return p
}

func (p *roundRobinProxy) pipe(client net.Conn, backend string) {
	defer client.Close()
	server, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer server.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
}

// TestLoadBalancedCollectorsShareAReport runs two collectors with one
// report_ids::key behind a round-robin TCP proxy. A TCP balancer spreads
// connections, so the client opens one per call (an HTTP balancer spreads
// the calls themselves); the report's calls land on both collectors, each
// accepts what the other began, and every row is emitted once.
func TestLoadBalancedCollectorsShareAReport(t *testing.T) {
	sinks := []*otlpSink{startOTLPSink(t), startOTLPSink(t)}
	collectors := []*centralCollector{startCentral(t, centralValues{OTLP: sinks[0].url}), startCentral(t, centralValues{OTLP: sinks[1].url})}
	proxy := startRoundRobinProxy(t, collectors[0].values.HTTPAddr, collectors[1].values.HTTPAddr)

	base, rows := contracttest.Report("e2e-balanced-system", 4, 250)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	ping := &servicepingclient.Client{Endpoint: "http://" + proxy.ln.Addr().String() + "/zitadel/ping/" + pathSecret, HTTP: client}
	require.NoError(t, ping.Report(context.Background(), base, rows, 500))
	calls := 1 + (len(rows)+499)/500
	require.GreaterOrEqual(t, calls, 4)

	want := len(rows) + len(base.Instances)
	deadline := time.Now().Add(60 * time.Second)
	var all []contracttest.Emitted
	for {
		all = all[:0]
		total := 0
		for _, s := range sinks {
			md, points := s.snapshot()
			total += points
			all = append(all, contracttest.Flatten(t, md))
		}
		if total >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i, e := range all {
		assert.NotEmpty(t, e.Rows, "collector %d emitted no rows: the report was not split", i)
		assert.EqualValues(t, (calls+1-i)/2, proxy.perBack[i].Load(), "calls through backend %d", i)
	}
	merged := contracttest.Emitted{Rows: append(all[0].Rows, all[1].Rows...), Instances: append(all[0].Instances, all[1].Instances...)}
	contracttest.AssertEmitted(t, merged, base, rows, false)
	for _, c := range collectors {
		require.NoError(t, c.terminate(15*time.Second))
	}
}
