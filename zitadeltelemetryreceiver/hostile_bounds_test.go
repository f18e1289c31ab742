package zitadeltelemetryreceiver

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// What anyone who can reach the port can make the receiver hold: calls that
// cost far more decoded than they take on the wire, bodies declared over
// the limit.

// allocatedDuring is what the whole process allocates while f runs.
func allocatedDuring(f func()) uint64 {
	var before, after runtimeMem
	before.read()
	f()
	after.read()
	return after.total - before.total
}

// emptyRowsJSON is a page of n rows written as {}: three bytes a row.
func emptyRowsJSON(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"systemId":"s","resourceCounts":[`)
	b.WriteString(strings.Repeat("{},", n-1))
	b.WriteString(`{}]}`)
	return b.Bytes()
}

// emptyRowsProto is a page of n empty rows in protobuf: two bytes a row.
func emptyRowsProto(n int) []byte {
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	b = protowire.AppendString(b, "s")
	for range n {
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendVarint(b, 0)
	}
	return b
}

// A page of a million empty rows is a few megabytes on the wire and over
// a hundred decoded: its rows are counted by stepping over the bytes, and
// it is refused having cost about its bytes, on every wire.
func TestRowsAreCountedBeforeTheyAreDecoded(t *testing.T) {
	const rows = 1000000
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, nil)
	bodies := map[bool][]byte{false: emptyRowsJSON(rows), true: emptyRowsProto(rows)}
	for name, w := range u.wires(t) {
		t.Run(name, func(t *testing.T) {
			body := bodies[name == "grpc" || name == "connect+proto"]
			var got wireResult
			allocated := allocatedDuring(func() { got = w.send(t, true, nil, body) })
			t.Logf("%s: a page of %d empty rows, %d bytes, cost %d bytes", name, rows, len(body), allocated)
			assert.Contains(t, got.message, fmt.Sprintf("resourceCounts has %d rows; this receiver takes at most 50000", rows))
			// The body is read whole (gRPC holds it twice); a decoded row
			// is over a hundred bytes.
			assert.Less(t, allocated, uint64(4*len(body)+4<<20), "a page of %d bytes cost %d", len(body), allocated)
		})
	}
}

// A page compressed a thousandfold is counted as it arrives decompressed;
// the decompressed body is held to max_request_body_size like any other.
func TestCompressedRowsAreCountedBeforeTheyAreDecoded(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, nil)
	post := func(plain []byte) (int, string, uint64) {
		enc, err := zstd.NewWriter(nil)
		require.NoError(t, err)
		body := enc.EncodeAll(plain, nil)
		require.Less(t, len(body), 64<<10)
		req, err := http.NewRequest(http.MethodPost, u.httpURL+zitadelCountsPath, bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "zstd")
		var res *http.Response
		allocated := allocatedDuring(func() { res, err = u.client.Do(req) })
		require.NoError(t, err)
		defer res.Body.Close()
		var answer bytes.Buffer
		_, _ = answer.ReadFrom(res.Body)
		return res.StatusCode, answer.String(), allocated
	}
	plain := emptyRowsJSON(6000000) // 18 MB, within the 20 MiB limit
	status, answer, allocated := post(plain)
	assert.Equal(t, http.StatusBadRequest, status, answer)
	t.Logf("a zstd page of 6,000,000 empty rows, %d bytes decompressed, cost %d bytes", len(plain), allocated)
	assert.Contains(t, answer, "resourceCounts has 6000000 rows")
	assert.Less(t, allocated, uint64(3*len(plain)), "a page of %d bytes decompressed cost %d", len(plain), allocated)

	status, answer, _ = post(emptyRowsJSON(7000000)) // 21 MB decompressed
	assert.Equal(t, http.StatusRequestEntityTooLarge, status, answer)
}

// declareOverLimit sends a request's head declaring a body of declared
// bytes and the body's first bytes, and reads the answer, which must come
// within 5s.
func declareOverLimit(t *testing.T, u *receiverUnderTest, method, contentType, encoding, start string, declared int64) (*http.Response, string) {
	t.Helper()
	host, path, _ := strings.Cut(strings.TrimPrefix(u.httpURL, "http://"), "/")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	defer conn.Close()
	head := fmt.Sprintf("POST /%s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n",
		path, method, host, contentType, declared)
	if encoding != "" {
		head += "Content-Encoding: " + encoding + "\r\n"
	}
	_, err = io.WriteString(conn, head+"\r\n"+start)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(5*time.Second)))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "no answer within 5s")
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	return res, string(answer)
}

// A body declared over the limit is answered 413 at once, before any of it
// is read, not held until the read timeout cuts it; the connection closes.
// A compressed one too, though the collector's decompression forgets the
// declared length (and for gzip waits for the body's first bytes).
func TestADeclaredBodyOverTheLimitIsAnsweredAtOnce(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.HTTP.Get().ReadTimeout = time.Minute })
	// Each body's first bytes, short of what its decompressor needs.
	starts := map[string]string{"": "{", "gzip": "\x1f\x8b", "zstd": "\x28\xb5\x2f"}
	for encoding, start := range starts {
		for _, declared := range []int64{20<<20 + 1, 1 << 40} {
			t.Run(fmt.Sprintf("%q declaring %d", encoding, declared), func(t *testing.T) {
				res, _ := declareOverLimit(t, u, zitadelCountsPath, "application/json", encoding, start, declared)
				assert.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
				assert.True(t, res.Close, "the connection carrying the rest of the body stays open")
			})
		}
	}
	// Connect answers in its own error format, as for a body read over the
	// limit.
	base, _ := officialMethods(t)
	res, answer := declareOverLimit(t, u, base, "application/proto", "gzip", starts["gzip"], 1<<40)
	assert.Contains(t, answer, `"code":"resource_exhausted"`, "HTTP %d", res.StatusCode)
	assert.True(t, res.Close)
}

// startHead opens a connection to the receiver's HTTP server and sends a
// request line and the start of a header that has not ended.
func startHead(t *testing.T, u *receiverUnderTest) net.Conn {
	t.Helper()
	host, path, _ := strings.Cut(strings.TrimPrefix(u.httpURL, "http://"), "/")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = fmt.Fprintf(conn, "POST /%s%s HTTP/1.1\r\nHost: %s\r\nX-Filler: ", path, zitadelCountsPath, host)
	require.NoError(t, err)
	return conn
}

// A header line that never ends is answered 431 once it passes
// max_header_bytes, not held until read_header_timeout; a bearer token of
// the size the SDKs send is taken.
func TestHeadersAreCutAtTheLimit(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, nil)
	conn := startHead(t, u)
	_, _ = conn.Write(bytes.Repeat([]byte("a"), 64<<10))
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(3*time.Second)))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "64 KiB of a header line that has not ended: no answer within 3s")
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)

	req, err := http.NewRequest(http.MethodPost, u.httpURL+zitadelCountsPath, bytes.NewReader(mustJSON(t, pageOf("sys", nil, goodRow()))))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+strings.Repeat("t", 8<<10))
	good, err := u.client.Do(req)
	require.NoError(t, err)
	good.Body.Close()
	assert.Equal(t, http.StatusOK, good.StatusCode)
}

// Connections sending never-ending header lines of a megabyte each once
// held about 2.4 MB apiece until read_header_timeout; each is now cut at the
// header limit and holds next to nothing.
func TestUnfinishedHeadersHoldLittle(t *testing.T) {
	const conns = 50
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, nil)
	before := reachableHeap()
	line := bytes.Repeat([]byte("a"), 64<<10)
	for range conns {
		conn := startHead(t, u)
		go func() {
			for range 16 { // a megabyte, until the server cuts it
				if _, err := conn.Write(line); err != nil {
					return
				}
			}
		}()
	}
	time.Sleep(2 * time.Second) // the server has read what it takes of each
	held := reachableHeap() - before
	assert.Less(t, held, int64(conns*64<<10), "%d unfinished headers hold %d bytes", conns, held)
}

// gRPC metadata is held to max_header_bytes too.
func TestGRPCMetadataIsBounded(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, nil)
	g := u.wires(t)["grpc"].(grpcWire)
	call := func(metadataBytes int) error {
		ctx := metadata.AppendToOutgoingContext(t.Context(), "x-filler", strings.Repeat("m", metadataBytes))
		return g.conn.Invoke(ctx, g.counts, pageOf("sys", nil, goodRow()), &analytics.ReportResourceCountsResponse{})
	}
	assert.NoError(t, call(8<<10), "a bearer token's worth of metadata")
	assert.Error(t, call(64<<10), "64 KiB of metadata")
}

// The connections the servers hold are bounded: at its share of
// max_connections (three of four, the fourth kept for gRPC) the next one
// waits until one closes, and is then served.
func TestConnectionsAreBounded(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.MaxConnections = 4 })
	var held []net.Conn
	for range 3 {
		held = append(held, startHead(t, u))
	}
	time.Sleep(200 * time.Millisecond) // the server has accepted them
	answered := make(chan int, 1)
	req, err := http.NewRequest(http.MethodPost, u.httpURL+zitadelCountsPath, bytes.NewReader(mustJSON(t, pageOf("sys", nil, goodRow()))))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	go func() {
		res, err := u.client.Do(req)
		if err != nil {
			t.Log(err)
			answered <- 0
			return
		}
		res.Body.Close()
		answered <- res.StatusCode
	}()
	select {
	case status := <-answered:
		t.Fatalf("a fourth HTTP connection was served (%d) while three were open", status)
	case <-time.After(time.Second):
	}
	require.NoError(t, held[0].Close())
	select {
	case status := <-answered:
		assert.Equal(t, http.StatusOK, status)
	case <-time.After(5 * time.Second):
		t.Fatal("the fourth HTTP connection was not served once one closed")
	}
}

// postGoodPage sends one good page on ZITADEL's wire and returns the
// status, 0 when no answer came within the client's timeout.
func postGoodPage(t *testing.T, u *receiverUnderTest, timeout time.Duration) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u.httpURL+zitadelCountsPath, bytes.NewReader(mustJSON(t, pageOf("sys", nil, goodRow()))))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Transport: &http.Transport{}, Timeout: timeout}
	defer client.CloseIdleConnections()
	res, err := client.Do(req)
	if err != nil {
		t.Logf("no answer: %v", err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// A gRPC call books the largest message it may send before the message
// arrives. Streams that open a call and never send it once held all of
// max_bytes_in_flight for as long as they stayed open, and every wire,
// ZITADEL's included, answered 429. What they book is held to half of it,
// and each such stream is ended after grpc::read_timeout, its booking
// given back.
func TestSilentGRPCStreamsDoNotStarveTheOtherWires(t *testing.T) {
	const readTimeout = 2 * time.Second
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.GRPC.Get().ReadTimeout = readTimeout })
	g := u.wires(t)["grpc"].(grpcWire)
	// The client gives up well after the server should have.
	ctx, cancel := context.WithTimeout(t.Context(), 4*readTimeout)
	defer cancel()
	start := time.Now()
	var silent []grpc.ClientStream
	for range 32 { // 32 x 4 MiB: all of max_bytes_in_flight
		s, err := g.conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, g.counts)
		require.NoError(t, err)
		silent = append(silent, s)
	}
	const half int64 = 64 << 20 // half of the 128 MiB the README gives max_bytes_in_flight
	require.Eventually(t, func() bool { return u.r.inFlight.Held() >= half }, time.Second, 10*time.Millisecond,
		"the silent streams book %d bytes", u.r.inFlight.Held())
	assert.LessOrEqual(t, u.r.inFlight.Held(), half, "what calls book for messages not arrived is held to half of max_bytes_in_flight")

	assert.Equal(t, http.StatusOK, postGoodPage(t, u, readTimeout/2), "ZITADEL's wire while the silent streams are open")
	refused := g.send(t, true, pageOf("sys", nil, goodRow()), nil)
	assert.Equal(t, "resource_exhausted", refused.code, "gRPC calls wait for the silent streams' bookings: %s", refused.message)
	assert.Contains(t, refused.message, "half of max_bytes_in_flight")

	// Each silent stream that was let in ends after the read timeout.
	var ended int
	for _, s := range silent {
		err := s.RecvMsg(&analytics.ReportResourceCountsResponse{})
		if status.Code(err) == codes.DeadlineExceeded {
			ended++
		}
	}
	elapsed := time.Since(start)
	assert.Equal(t, 16, ended, "the streams booked (64 MiB of 4 MiB messages) ended for their message")
	assert.Less(t, elapsed, 2*readTimeout, "the silent streams were ended after %s", elapsed)
	require.Eventually(t, func() bool { return u.r.inFlight.Held() == 0 }, time.Second, 10*time.Millisecond, "the bookings are given back")
	assert.Zero(t, u.r.inFlight.Unread())
	assert.Equal(t, "ok", g.send(t, true, pageOf("sys", nil, goodRow()), nil).code, "gRPC is served again")
}

// A message that arrives within the read timeout is taken, however long
// the call waited for its first byte.
func TestAGRPCMessageWithinTheReadTimeoutIsTaken(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.GRPC.Get().ReadTimeout = 2 * time.Second })
	g := u.wires(t)["grpc"].(grpcWire)
	s, err := g.conn.NewStream(t.Context(), &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}, g.counts)
	require.NoError(t, err)
	time.Sleep(time.Second)
	require.NoError(t, s.SendMsg(pageOf("sys", nil, goodRow())))
	require.NoError(t, s.CloseSend())
	require.NoError(t, s.RecvMsg(&analytics.ReportResourceCountsResponse{}))
	require.Eventually(t, func() bool { return u.r.inFlight.Held() == 0 }, time.Second, 10*time.Millisecond)
}

// openIdleGRPC opens a connection to the gRPC server that sends HTTP/2's
// preface and an empty SETTINGS frame, then nothing.
func openIdleGRPC(t *testing.T, u *receiverUnderTest) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", u.grpcAddr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = conn.Write([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
	require.NoError(t, err)
	return conn
}

// Idle gRPC connections once held every slot of max_connections, which the
// two servers share, for ever, and ZITADEL's wire waited for one to close.
// Each server holds at most three quarters of them.
func TestIdleGRPCConnectionsDoNotLockOutHTTP(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.MaxConnections = 4 })
	for range 4 {
		openIdleGRPC(t, u)
	}
	time.Sleep(200 * time.Millisecond) // the server has accepted what it takes
	assert.Equal(t, http.StatusOK, postGoodPage(t, u, 3*time.Second), "ZITADEL's wire with every connection taken by idle gRPC ones")
}

// Idle HTTP connections leave gRPC its share alike.
func TestIdleHTTPConnectionsDoNotLockOutGRPC(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.MaxConnections = 4 })
	for range 4 {
		startHead(t, u)
	}
	time.Sleep(200 * time.Millisecond)
	g := u.wires(t)["grpc"].(grpcWire)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	err := g.conn.Invoke(ctx, g.counts, pageOf("sys", nil, goodRow()), &analytics.ReportResourceCountsResponse{})
	assert.NoError(t, err, "gRPC with every connection taken by unfinished HTTP headers")
}

// A gRPC connection without a call is closed after
// keepalive::server_parameters::max_connection_idle (a minute by default,
// TestTelemetryReceiverGRPCTimeoutsByDefault), giving back its slot.
func TestIdleGRPCConnectionsAreClosed(t *testing.T) {
	const idle = time.Second
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) {
		c.MaxConnections = 2
		c.GRPC.Get().Keepalive.Get().ServerParameters.Get().MaxConnectionIdle = idle
	})
	conn := openIdleGRPC(t, u)
	start := time.Now()
	// grpc-go sends GOAWAY, and a second one with the connection's close
	// once a ping went unanswered for 5s.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(idle+10*time.Second)))
	_, err := io.Copy(io.Discard, conn)
	require.NoError(t, err, "the idle connection was not closed")
	assert.GreaterOrEqual(t, time.Since(start), idle)

	// Its slot is free again: gRPC holds at most one of two connections.
	g := u.wires(t)["grpc"].(grpcWire)
	assert.Equal(t, "ok", g.send(t, true, pageOf("sys", nil, goodRow()), nil).code)
}
