package zitadeltelemetryreceiver

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumertest"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// What a client holding the path secret can make the receiver do, on every
// wire: name systems it was not told to take, or more instances than a call
// may cost.

// The system id is all that is read of an unknown system's call: a body
// whose rows would not decode is refused as unknown_system, not malformed.
func TestAnUnknownSystemIsRefusedBeforeTheRestIsDecoded(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.Systems = []string{"known-system"} })
	undecodable := []byte(`{"resourceCounts":[{"amount":"many","parentType":7}],"systemId":"made-up-system"}`)
	before := refusedCalls(t, u.tel)
	got := postHTTP(t, u.client, u.httpURL+zitadelCountsPath, "application/json", undecodable, false)
	assert.Equal(t, http.StatusForbidden, got.httpStatus, got.message)
	assertCountedOnce(t, u.tel, before, "http/unknown_system")

	// The same body from a known system reaches the decoder, which refuses it.
	known := bytes.Replace(undecodable, []byte("made-up-system"), []byte("known-system"), 1)
	before = refusedCalls(t, u.tel)
	got = postHTTP(t, u.client, u.httpURL+zitadelCountsPath, "application/json", known, false)
	assert.Equal(t, http.StatusBadRequest, got.httpStatus, got.message)
	assertCountedOnce(t, u.tel, before, "http/malformed")
}

// baseWith is a base information of n instances with domains each.
func baseWith(n, domains int) *analytics.ReportBaseInformationRequest {
	req := &analytics.ReportBaseInformationRequest{SystemId: "sys"}
	for i := range n {
		in := &analytics.InstanceInformation{Id: fmt.Sprintf("i%d", i)}
		for j := range domains {
			in.Domains = append(in.Domains, fmt.Sprintf("d%d.example.com", j))
		}
		req.Instances = append(req.Instances, in)
	}
	return req
}

// A call from a configured system, at the bounds, is taken on every wire.
func TestCallsWithinTheBoundsAreTaken(t *testing.T) {
	sink := &consumertest.MetricsSink{}
	u := startTelemetryReceiver(t, sink, func(c *Config) {
		c.Systems = []string{"sys"}
		c.MaxInstancesPerCall = 3
	})
	for name, w := range u.wires(t) {
		t.Run(name, func(t *testing.T) {
			sink.Reset()
			got := w.send(t, false, baseWith(3, maxDomainsPerInstance), nil)
			require.Equal(t, "ok", got.code, got.message)
			got = w.send(t, true, pageOf("sys", nil, goodRow()), nil)
			require.Equal(t, "ok", got.code, got.message)
			assert.Equal(t, 4, sink.DataPointCount())
		})
	}
}

// The handler enforces the limit the server enforces, confighttp's 20 MiB
// when none is written: a body one byte over is refused as too large (413,
// as proxies answer) on both counts, and one at the limit is read.
func TestTheBodyLimitIsTheServers(t *testing.T) {
	const limit = 20 << 20 // confighttp's default, independent of the receiver's constant
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) { c.HTTP.Get().MaxRequestBodySize = 0 })
	before := refusedCalls(t, u.tel)
	got := postHTTP(t, u.client, u.httpURL+zitadelCountsPath, "application/json", bytes.Repeat([]byte(" "), limit+1), false)
	assert.Equal(t, http.StatusRequestEntityTooLarge, got.httpStatus)
	assert.Contains(t, got.message, fmt.Sprintf("more than %d", limit))
	assertCountedOnce(t, u.tel, before, "http/too_large")

	body := append([]byte(`{"systemId":"sys"}`), bytes.Repeat([]byte(" "), limit-18)...)
	got = postHTTP(t, u.client, u.httpURL+zitadelCountsPath, "application/json", body, false)
	assert.Equal(t, http.StatusOK, got.httpStatus, got.message)
}

// A declared length is not memory: a call declaring the whole limit and
// sending a byte costs the receiver what it sent, and is answered once the
// client stops.
func TestADeclaredLengthReservesNothing(t *testing.T) {
	u := startTelemetryReceiver(t, &consumertest.MetricsSink{}, func(c *Config) {
		c.HTTP.Get().MaxRequestBodySize = 0
		c.HTTP.Get().ReadTimeout = time.Second
	})
	addr := strings.TrimPrefix(u.httpURL, "http://")
	host, path, _ := strings.Cut(addr, "/")
	conn, err := net.Dial("tcp", host)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /%s%s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{",
		path, zitadelCountsPath, host, 20<<20)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	answer := make([]byte, 4096)
	n, err := conn.Read(answer)
	// The read timeout cuts the body off: the receiver answers or closes,
	// and never dies of the declared length.
	if err == nil {
		assert.Contains(t, string(answer[:n]), "HTTP/1.1 400", "a body cut off is malformed")
	}
	got := postHTTP(t, u.client, u.httpURL+zitadelCountsPath, "application/json", []byte(`{"systemId":"sys"}`), false)
	assert.Equal(t, http.StatusOK, got.httpStatus, got.message)
}
