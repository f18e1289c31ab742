package zitadelapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	userpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/user/v2"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

// The benchmark runs the fake ZITADEL in a child process (this test binary,
// started with benchFakeEnv set), so the CPU time and memory of this
// process are the client's alone; the child reports its own CPU time.
const benchFakeEnv = "ZITADELAPI_BENCH_FAKE_ORGS"

// benchSpec is one instance of orgs organizations with the default
// resources; up to seven projects each gives about 9.5 calls per organization.
func benchSpec(orgs int) fakezitadel.Spec {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	spec.OrgsPerInstance = orgs
	spec.MaxProjectsPerOrg = 7
	return spec
}

// serveFakeForBenchmark serves the fake when this process is the child: it
// prints the address and the CPU time spent building the dataset, serves
// until stdin closes, then prints the calls it answered and its CPU time
// (microseconds).
func serveFakeForBenchmark() bool {
	orgs, err := strconv.Atoi(os.Getenv(benchFakeEnv))
	if err != nil {
		return false
	}
	srv := fakezitadel.NewServer(fakezitadel.Generate(benchSpec(orgs)), fakezitadel.Options{PATs: map[string]string{testPAT: ""}})
	if err := srv.Start("127.0.0.1:0", ""); err != nil {
		fmt.Println("error", err)
		return true
	}
	fmt.Println(srv.GRPCAddr(), cpuTime().Microseconds())
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Println(srv.TotalCalls(), cpuTime().Microseconds())
	srv.Close()
	return true
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSSBytes() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Maxrss * 1024 // kilobytes on Linux
}

type fakeProcess struct {
	cmd      *exec.Cmd
	stdin    io.WriteCloser
	out      *bufio.Scanner
	addr     string
	setupCPU time.Duration
}

func startFakeProcess(b *testing.B, orgs int) *fakeProcess {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", benchFakeEnv, orgs))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &fakeProcess{cmd: cmd, stdin: stdin, out: bufio.NewScanner(stdout)}
	if !p.out.Scan() || strings.HasPrefix(p.out.Text(), "error") {
		b.Fatalf("fake ZITADEL did not start: %q", p.out.Text())
	}
	var micros int64
	if _, err := fmt.Sscan(p.out.Text(), &p.addr, &micros); err != nil {
		b.Fatalf("fake ZITADEL: %q: %v", p.out.Text(), err)
	}
	p.setupCPU = time.Duration(micros) * time.Microsecond
	return p
}

// stop ends the child and returns the calls it answered and the CPU time
// it spent serving them.
func (p *fakeProcess) stop(b *testing.B) (int64, time.Duration) {
	b.Helper()
	_ = p.stdin.Close()
	var calls, micros int64
	if p.out.Scan() {
		_, _ = fmt.Sscan(p.out.Text(), &calls, &micros)
	}
	_ = p.cmd.Wait()
	return calls, time.Duration(micros)*time.Microsecond - p.setupCPU
}

type countingRecorder struct{ counts int }

func (r *countingRecorder) RecordInstance(model.Instance) {}
func (r *countingRecorder) RecordCount(model.Count)       { r.counts++ }

// BenchmarkScrape10kOrgs is a full scrape of 10,000 organizations with the
// default resources against the fake on loopback, at 16 workers and at one.
// Run it with -benchtime=1x; each iteration is a whole scrape.
func BenchmarkScrape10kOrgs(b *testing.B) {
	const orgs = 10000
	for _, workers := range []int{16, 1} {
		b.Run(fmt.Sprintf("max_concurrency=%d", workers), func(b *testing.B) {
			fake := startFakeProcess(b, orgs)
			cfg := NewDefaultConfig()
			cfg.Endpoint = fake.addr
			cfg.TLS.Insecure = true
			cfg.Token = testPAT
			cfg.MaxConcurrency = workers
			s := NewSource(&cfg, activity.Config{}, nil, componenttest.NewNopTelemetrySettings()).(*source)
			if err := s.Start(context.Background(), componenttest.NewNopHost()); err != nil {
				b.Fatal(err)
			}
			// One warm-up call opens the connection outside the measurement.
			if _, err := s.client.getMyInstance(context.Background(), scope{}); err != nil {
				b.Fatal(err)
			}

			cpuBefore := cpuTime()
			b.ReportAllocs()
			b.ResetTimer()
			var rec countingRecorder
			for b.Loop() {
				rec = countingRecorder{}
				if err := s.Scrape(context.Background(), &rec); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			clientCPU := cpuTime() - cpuBefore
			_ = s.Shutdown(context.Background())
			calls, serverCPU := fake.stop(b)
			calls-- // the warm-up call
			callsPerScrape := float64(calls) / float64(b.N)
			b.ReportMetric(callsPerScrape, "calls/op")
			b.ReportMetric(float64(clientCPU.Microseconds())/float64(calls), "client-µs/call")
			b.ReportMetric(float64(serverCPU.Microseconds())/float64(calls), "server-µs/call")
			b.ReportMetric(float64(peakRSSBytes())/(1<<20), "peak-RSS-MB")
			b.ReportMetric(float64(rec.counts), "counts/op")
		})
	}
}

// BenchmarkCallFloor puts the client CPU of one count call in context: the
// same ListUsers call through bare grpc-go, through configgrpc's connection
// (which adds OpenTelemetry instrumentation), and through the source's
// client (credentials, routing headers, per-call deadline), 16 at a time.
func BenchmarkCallFloor(b *testing.B) {
	fake := startFakeProcess(b, 10)
	defer fake.stop(b)
	cfg := NewDefaultConfig()
	cfg.Endpoint = fake.addr
	cfg.TLS.Insecure = true
	bare, err := grpc.NewClient(fake.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	instrumented, err := cfg.ToClientConn(context.Background(), nil, componenttest.NewNopTelemetrySettings())
	if err != nil {
		b.Fatal(err)
	}
	defer instrumented.Close()
	src := &client{conn: instrumented, creds: &patCredentials{inline: testPAT}, timeout: cfg.RequestTimeout, retry: cfg.Retry, metrics: noopCallMetrics(b)}

	invoke := func(conn *grpc.ClientConn) func() error {
		return func() error {
			ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+testPAT)
			return conn.Invoke(ctx, userpb.UserService_ListUsers_FullMethodName,
				&userpb.ListUsersRequest{Query: countQueryV2()}, &userpb.ListUsersResponse{})
		}
	}
	for _, bc := range []struct {
		name string
		call func() error
	}{
		{"grpc-go", invoke(bare)},
		{"configgrpc", invoke(instrumented)},
		{"source", func() error { _, err := src.countUsers(context.Background(), scope{}, "", false); return err }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetParallelism(8) // 16 goroutines on 2 cores, as max_concurrency: 16
			before := cpuTime()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := bc.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64((cpuTime()-before).Microseconds())/float64(b.N), "client-µs/call")
		})
	}
}
