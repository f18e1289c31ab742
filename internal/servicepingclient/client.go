// Package servicepingclient sends reports exactly as ZITADEL's built-in
// service ping does (zitadel/zitadel internal/serviceping, v4): protojson with
// default options, POST {endpoint}/instances then {endpoint}/resource_counts
// pages, header Content-Type: application/json and nothing else, success only
// on HTTP 200 with a body protojson reads. Tests and benchmarks use it to
// stand in for a ZITADEL installation.
package servicepingclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// Client is one installation's service ping.
type Client struct {
	// Endpoint is ServicePing.Endpoint; the paths are appended as they are.
	Endpoint string
	// HTTP is the client; nil is Go's default client, as ZITADEL uses.
	HTTP *http.Client
}

// TelemetryError is a call that did not answer 200, as ZITADEL records it.
type TelemetryError struct {
	StatusCode int
	Body       string
}

func (e *TelemetryError) Error() string {
	return fmt.Sprintf("telemetry endpoint answered %d: %s", e.StatusCode, e.Body)
}

// Cancels reports whether ZITADEL stops the report for good on err instead of
// retrying it: HTTP 400, 404, 409, 412 and 501.
func Cancels(err error) bool {
	var te *TelemetryError
	if !errors.As(err, &te) {
		return false
	}
	switch te.StatusCode {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusPreconditionFailed, http.StatusNotImplemented:
		return true
	}
	return false
}

// ReportBaseInformation POSTs {endpoint}/instances and returns the report id.
func (c *Client) ReportBaseInformation(ctx context.Context, req *analytics.ReportBaseInformationRequest) (string, error) {
	resp := &analytics.ReportBaseInformationResponse{}
	err := c.call(ctx, "/instances", req, resp)
	return resp.GetReportId(), err
}

// ReportResourceCounts POSTs {endpoint}/resource_counts and returns the
// report id the answer carries.
func (c *Client) ReportResourceCounts(ctx context.Context, req *analytics.ReportResourceCountsRequest) (string, error) {
	resp := &analytics.ReportResourceCountsResponse{}
	err := c.call(ctx, "/resource_counts", req, resp)
	return resp.GetReportId(), err
}

// Report sends a whole report: the base information, then the rows in pages
// of bulkSize, each carrying the report id, switching to another id when a
// page's answer carries one.
func (c *Client) Report(ctx context.Context, base *analytics.ReportBaseInformationRequest, rows []*analytics.ResourceCount, bulkSize int) error {
	id, err := c.ReportBaseInformation(ctx, base)
	if err != nil {
		return fmt.Errorf("base information: %w", err)
	}
	for start := 0; start < len(rows); start += bulkSize {
		req := &analytics.ReportResourceCountsRequest{
			SystemId:       base.SystemId,
			ResourceCounts: rows[start:min(start+bulkSize, len(rows))],
		}
		if id != "" {
			req.ReportId = proto.String(id)
		}
		next, err := c.ReportResourceCounts(ctx, req)
		if err != nil {
			return fmt.Errorf("resource counts from row %d: %w", start, err)
		}
		if next != "" {
			id = next
		}
	}
	return nil
}

func (c *Client) call(ctx context.Context, path string, req, resp proto.Message) error {
	body, err := protojson.Marshal(req)
	if err != nil {
		return err
	}
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	client := c.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(r)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return &TelemetryError{StatusCode: res.StatusCode, Body: string(answer)}
	}
	return protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(answer, resp)
}
