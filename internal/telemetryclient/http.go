package telemetryclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/remotetext"
)

// PathStyle selects the URL layout of the HTTP transports; the JSON bodies are
// the same in both.
type PathStyle int

const (
	// PathsZITADEL is ZITADEL's own service ping: {endpoint}/instances and
	// {endpoint}/resource_counts.
	PathsZITADEL PathStyle = iota
	// PathsConnect is the Connect unary protocol the ZITADEL SDKs speak:
	// {endpoint}/zitadel.analytics.v2beta.TelemetryService/<Method>.
	PathsConnect
)

// The URL paths, relative to the configured endpoint.
const (
	PathInstances      = "/instances"
	PathResourceCounts = "/resource_counts"
	PathConnectBase    = analytics.TelemetryService_ReportBaseInformation_FullMethodName
	PathConnectCounts  = analytics.TelemetryService_ReportResourceCounts_FullMethodName
)

// maxAnswerBytes bounds what is read of an answer; a report id or an error
// message is far smaller, and a misbehaving endpoint must not exhaust memory.
const maxAnswerBytes = 1 << 20

type httpClient struct {
	client    *http.Client
	baseURL   string
	countsURL string
	// shown are the URLs as messages name them: the endpoint may carry a
	// receiver's path secret, which must not reach a log line.
	shown   map[string]string
	connect bool
}

// NewHTTP returns a client that POSTs protojson bodies to endpoint, laid out
// as style says. The *http.Client carries TLS, headers, auth, compression.
// It follows no redirect: one would carry the report, the path secret in the
// URL and the configured headers to wherever the answer points (a 307), or
// turn the POST into a GET without a body that another host answers with 200
// (a 302), so a redirect is an answer of its own, refused by classifyHTTP.
func NewHTTP(client *http.Client, endpoint string, style PathStyle) Client {
	endpoint = strings.TrimSuffix(endpoint, "/")
	own := *client
	own.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &httpClient{client: &own, connect: style == PathsConnect}
	if c.connect {
		c.baseURL, c.countsURL = endpoint+PathConnectBase, endpoint+PathConnectCounts
	} else {
		c.baseURL, c.countsURL = endpoint+PathInstances, endpoint+PathResourceCounts
	}
	shownEndpoint := remotetext.URL(endpoint)
	c.shown = map[string]string{
		c.baseURL:   shownEndpoint + strings.TrimPrefix(c.baseURL, endpoint),
		c.countsURL: shownEndpoint + strings.TrimPrefix(c.countsURL, endpoint),
	}
	return c
}

func (c *httpClient) ReportBaseInformation(ctx context.Context, req *analytics.ReportBaseInformationRequest) (*analytics.ReportBaseInformationResponse, error) {
	body, err := protojson.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encoding ReportBaseInformation: %w", err)
	}
	out := &analytics.ReportBaseInformationResponse{}
	return out, c.post(ctx, c.baseURL, body, out)
}

func (c *httpClient) ReportResourceCounts(ctx context.Context, req *analytics.ReportResourceCountsRequest) (*analytics.ReportResourceCountsResponse, error) {
	body := AppendResourceCountsJSON(make([]byte, 0, estimateCountsJSON(req)), req)
	out := &analytics.ReportResourceCountsResponse{}
	return out, c.post(ctx, c.countsURL, body, out)
}

func (c *httpClient) Close() error {
	c.client.CloseIdleConnections()
	return nil
}

func (c *httpClient) post(ctx context.Context, url string, body []byte, out proto.Message) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.connect {
		req.Header.Set("Connect-Protocol-Version", "1")
		if deadline, ok := ctx.Deadline(); ok {
			req.Header.Set("Connect-Timeout-Ms", strconv.FormatInt(max(time.Until(deadline).Milliseconds(), 1), 10))
		}
	}
	shown := c.shown[url]
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			ue.URL = shown // net/http names the URL it was given
		}
		return fmt.Errorf("POST %s: %w", shown, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("POST %s: reading the answer: %w", shown, err)
	}
	return classifyHTTP(resp.StatusCode, resp.Header, answer, out)
}
