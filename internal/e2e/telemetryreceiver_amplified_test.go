package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// Attacks that cost the collector far more than they cost the client: rows
// that are a few bytes on the wire and a hundred decoded, bodies compressed
// a thousandfold, header lines that never end, calls by the hundred over
// gRPC, where no path secret applies.

// BenchmarkCollectorUnderAmplifiedAttack runs each attack once per op
// against a fresh built collector (512 MiB memory_limiter, gRPC on) while a
// good client sends a page every 100 ms, retrying as ZITADEL and the
// exporter do, and reports the peak resident set (peak-MiB) and how the good
// client fared (good-taken, good-refused). Run with -benchtime 1x.
func BenchmarkCollectorUnderAmplifiedAttack(b *testing.B) {
	run := func(name string, attack func(b *testing.B, c *hostileCollector, grpcAddr string)) {
		b.Run(name, func(b *testing.B) {
			var peak float64
			for range b.N {
				grpcAddr := freeAddr(b)
				c := startHostileCollector(b, attackLimitMiB, "", "    grpc:\n      endpoint: "+grpcAddr)
				waitForListener(b, c.collector, grpcAddr)
				page := hostilePage(b, c.beginReport(b), 100)
				done := make(chan struct{})
				go func() {
					defer close(done)
					attack(b, c, grpcAddr)
				}()
				goodPagesRetrying(b, c, page, 50)
				<-done
				if !c.running() {
					b.Fatalf("the collector died:\n%s", c.out.String())
				}
				peak = max(peak, c.peakRSSMiB(b))
				_ = c.terminate(10 * time.Second)
			}
			b.ReportMetric(peak, "peak-MiB")
		})
	}
	for _, parallel := range []int{1, 8} {
		run(fmt.Sprintf("empty-rows-json-20MiB-x%d", parallel), func(b *testing.B, c *hostileCollector, _ string) {
			body := emptyRows(6900000, false)
			concurrently(b, parallel, func() (int, string, error) { return c.post("/resource_counts", body) })
		})
	}
	run("empty-rows-json-zstd-x8", func(b *testing.B, c *hostileCollector, _ string) {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			b.Fatal(err)
		}
		body := enc.EncodeAll(emptyRows(6900000, false), nil)
		b.ReportMetric(float64(len(body)), "wire-bytes")
		concurrently(b, 8, func() (int, string, error) { return c.postEncoded("/resource_counts", body, "zstd") })
	})
	run("empty-rows-connect-proto-x1", func(b *testing.B, c *hostileCollector, _ string) {
		body := emptyRows(10000000, true)
		concurrently(b, 1, func() (int, string, error) {
			return c.postAs("/zitadel.analytics.v2beta.TelemetryService/ReportResourceCounts", body, "application/proto")
		})
	})
	run("empty-rows-grpc-4MiB-x16", func(b *testing.B, _ *hostileCollector, grpcAddr string) {
		body := emptyRows(2000000, true)
		grpcConcurrently(b, grpcAddr, 16, func() []byte { return body })
	})
	run("grpc-10k-row-pages-x100", func(b *testing.B, _ *hostileCollector, grpcAddr string) {
		body, err := proto.Marshal(contracttest.ZITADELPage(hostileSystemID, "", 10000))
		if err != nil {
			b.Fatal(err)
		}
		grpcConcurrently(b, grpcAddr, 100, func() []byte { return body })
	})
	run("grpc-1k-row-pages-x1000", func(b *testing.B, _ *hostileCollector, grpcAddr string) {
		body, err := proto.Marshal(contracttest.ZITADELPage(hostileSystemID, "", 1000))
		if err != nil {
			b.Fatal(err)
		}
		grpcConcurrently(b, grpcAddr, 1000, func() []byte { return body })
	})
	run("500-unfinished-1MB-headers", func(b *testing.B, c *hostileCollector, _ string) {
		unfinishedHeaders(b, c.values.HTTPAddr, 500, 1<<20)
	})
	run("grpc-32-silent-streams-40s", func(b *testing.B, _ *hostileCollector, grpcAddr string) {
		silentStreams(b, grpcAddr, 32, 40*time.Second)
	})
}

// silentStreams keeps n gRPC calls open on one connection for d, each
// sending its headers and never its message, and opens another as soon as
// one is ended (after the retry delay when it was refused). It reports how
// many the server ended for their message (silent-ended) and refused
// (silent-refused).
func silentStreams(b *testing.B, addr string, n int, d time.Duration) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var mu sync.Mutex
	counts := map[string]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				s, err := conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true},
					analytics.TelemetryService_ReportResourceCounts_FullMethodName)
				if err == nil {
					err = s.RecvMsg(&analytics.ReportResourceCountsResponse{})
				}
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				if status.Code(err) == codes.ResourceExhausted {
					counts["silent-refused"]++
				} else {
					counts["silent-ended"]++
				}
				mu.Unlock()
				if status.Code(err) == codes.ResourceExhausted {
					time.Sleep(time.Second)
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(counts["silent-ended"]), "silent-ended")
	b.ReportMetric(float64(counts["silent-refused"]), "silent-refused")
}

// emptyRows is a page of n rows written as {} (JSON, three bytes a row) or
// as empty messages (protobuf, two bytes a row).
func emptyRows(n int, binary bool) []byte {
	if binary {
		b := protowire.AppendTag(nil, 1, protowire.BytesType)
		b = protowire.AppendString(b, hostileSystemID)
		for range n {
			b = protowire.AppendTag(b, 3, protowire.BytesType)
			b = protowire.AppendVarint(b, 0)
		}
		return b
	}
	var body bytes.Buffer
	body.WriteString(`{"systemId":"` + hostileSystemID + `","resourceCounts":[`)
	body.WriteString(strings.Repeat("{},", n-1))
	body.WriteString(`{}]}`)
	return body.Bytes()
}

func (c *hostileCollector) postAs(method string, body []byte, contentType string) (int, string, error) {
	status, answer, _, err := c.exchange(method, body, contentType, "")
	return status, answer, err
}

func (c *hostileCollector) postEncoded(method string, body []byte, encoding string) (int, string, error) {
	status, answer, _, err := c.exchange(method, body, "application/json", encoding)
	return status, answer, err
}

// goodPagesRetrying sends n pages 100 ms apart as a good client does,
// trying each again after Retry-After (at most four times) when it is
// answered 429 or 503, and reports how many were taken in the end.
func goodPagesRetrying(b *testing.B, c *hostileCollector, page []byte, n int) {
	taken := 0
	for range n {
		if status, _, err := postRetrying(c, page); err == nil && status == http.StatusOK {
			taken++
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.ReportMetric(float64(taken), "good-taken")
	b.ReportMetric(float64(n-taken), "good-refused")
}

// postRetrying sends a page as ZITADEL does: again after Retry-After, at
// most four times, while it is answered 429 or 503. It returns the last
// answer.
func postRetrying(c *hostileCollector, page []byte) (status int, answer string, err error) {
	for attempt := range 5 {
		var header http.Header
		status, answer, header, err = c.exchange("/resource_counts", page, "application/json", "")
		if err != nil || status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable || attempt == 4 {
			break
		}
		wait, _ := strconv.Atoi(header.Get("Retry-After"))
		time.Sleep(time.Duration(max(wait, 1)) * time.Second)
	}
	return status, answer, err
}

// rawMessages sends bodies over gRPC as the bytes they are.
type rawMessages struct{ encoding.CodecV2 }

type rawMessage []byte

func (c rawMessages) Marshal(v any) (mem.BufferSlice, error) {
	if m, ok := v.(*rawMessage); ok {
		return mem.BufferSlice{mem.SliceBuffer(*m)}, nil
	}
	return c.CodecV2.Marshal(v)
}

// grpcConcurrently sends parallel ReportResourceCounts calls at once over
// one connection each and reports their codes.
func grpcConcurrently(b *testing.B, addr string, parallel int, body func() []byte) {
	codes := make([]string, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Go(func() {
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(64<<20)))
			if err != nil {
				codes[i] = "dial"
				return
			}
			defer conn.Close()
			msg := rawMessage(body())
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = conn.Invoke(ctx, analytics.TelemetryService_ReportResourceCounts_FullMethodName, &msg,
				&analytics.ReportResourceCountsResponse{}, grpc.ForceCodecV2(rawMessages{CodecV2: encoding.GetCodecV2("proto")}))
			codes[i] = grpcCodeOf(err)
		})
	}
	wg.Wait()
	counts := map[string]int{}
	for _, c := range codes {
		counts[c]++
	}
	for code, n := range counts {
		b.ReportMetric(float64(n), "answered-"+code)
	}
}

// unfinishedHeaders opens n connections that each send a request line and
// then a header line of size bytes that never ends, and keeps them for ten
// seconds.
func unfinishedHeaders(_ testing.TB, addr string, n, size int) {
	var wg sync.WaitGroup
	chunk := bytes.Repeat([]byte("a"), 64<<10)
	for range n {
		wg.Go(func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer conn.Close()
			_, _ = fmt.Fprintf(conn, "POST /zitadel/ping/%s/resource_counts HTTP/1.1\r\nHost: %s\r\nX-Filler: ", pathSecret, addr)
			for sent := 0; sent < size; sent += len(chunk) {
				if _, err := conn.Write(chunk); err != nil {
					return // cut by the server
				}
			}
			time.Sleep(10 * time.Second)
		})
	}
	wg.Wait()
}

func grpcCodeOf(err error) string {
	return status.Code(err).String()
}

// TestCollectorBoundsAmplifiedAttacks: eight zstd bodies of 2 KB, each 20 MiB
// of empty rows decompressed, once took the collector to 2.7 GiB, and 500
// never-ending header lines to 1.2 GiB. Both now stay within the
// memory_limiter plus a fifth, and a good client's pages are taken
// meanwhile (after a retry when the bodies in flight fill the receiver's
// bound, as ZITADEL retries).
func TestCollectorBoundsAmplifiedAttacks(t *testing.T) {
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	bomb := enc.EncodeAll(emptyRows(6900000, false), nil)
	for name, attack := range map[string]func(c *hostileCollector){
		"zstd-empty-rows-x8": func(c *hostileCollector) {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() { _, _, _ = c.postEncoded("/resource_counts", bomb, "zstd") })
			}
			wg.Wait()
		},
		"500-unfinished-headers": func(c *hostileCollector) { unfinishedHeaders(t, c.values.HTTPAddr, 500, 1<<20) },
	} {
		t.Run(name, func(t *testing.T) {
			c := startHostileCollector(t, attackLimitMiB, "", "")
			page := hostilePage(t, c.beginReport(t), 100)
			done := make(chan struct{})
			go func() {
				defer close(done)
				attack(c)
			}()
			for i := range 20 {
				// A good client retries a 429 as ZITADEL does: the bodies in
				// flight may hold the receiver's bound for a moment.
				status, answer, err := postRetrying(c, page)
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, status, "good page %d during the attack: %s", i, answer)
				time.Sleep(100 * time.Millisecond)
			}
			<-done
			assert.True(t, c.running())
			assert.LessOrEqual(t, c.peakRSSMiB(t), attackLimitMiB*1.2)
		})
	}
}
