package telemetryserver

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc/codes"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetrywire"
)

// The paths this endpoint answers, written down here rather than taken from
// the client, so that a wrong path on either side fails the tests instead of
// being mirrored. ZITADEL's service ping appends /instances and
// /resource_counts to its configured endpoint (internal/serviceping/client.go);
// Connect addresses a method as /<package>.<Service>/<Method>.
const (
	zitadelPathBase   = "/instances"
	zitadelPathCounts = "/resource_counts"
	connectPathBase   = "/zitadel.analytics.v2beta.TelemetryService/ReportBaseInformation"
	connectPathCounts = "/zitadel.analytics.v2beta.TelemetryService/ReportResourceCounts"
)

// maxBodyBytes bounds a request body after decompression.
const maxBodyBytes = 64 << 20

// httpHandler serves both path styles. ZITADEL's own paths work under any
// prefix, since ZITADEL appends them to its configured endpoint.
func (s *Server) httpHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		transport, method := route(r.URL.Path)
		if method == "" {
			telemetrywire.WriteError(w, false, codes.NotFound, "no TelemetryService method at "+r.URL.Path, 0)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		body, err := readBody(r)
		if err != nil {
			telemetrywire.WriteError(w, transport == TransportConnect, codes.InvalidArgument, err.Error(), 0)
			return
		}
		binary := transport == TransportConnect && strings.HasPrefix(r.Header.Get("Content-Type"), "application/proto")
		var a answer
		if method == MethodBase {
			req := &analytics.ReportBaseInformationRequest{}
			if err := telemetrywire.Unmarshal(body, req, binary); err != nil {
				telemetrywire.WriteError(w, transport == TransportConnect, codes.InvalidArgument, err.Error(), 0)
				return
			}
			a = s.handle(transport, req, nil)
		} else {
			req, err := telemetrywire.DecodeCounts(body, binary)
			if err != nil {
				telemetrywire.WriteError(w, transport == TransportConnect, codes.InvalidArgument, err.Error(), 0)
				return
			}
			a = s.handle(transport, nil, req)
		}
		if a.code != codes.OK {
			telemetrywire.WriteError(w, transport == TransportConnect, a.code, a.message, a.retryAfter)
			return
		}
		telemetrywire.WriteReportID(w, binary, a.reportID)
	})
}

func route(path string) (transport, method string) {
	switch {
	case strings.HasSuffix(path, connectPathBase):
		return TransportConnect, MethodBase
	case strings.HasSuffix(path, connectPathCounts):
		return TransportConnect, MethodCounts
	case strings.HasSuffix(path, zitadelPathBase):
		return TransportHTTP, MethodBase
	case strings.HasSuffix(path, zitadelPathCounts):
		return TransportHTTP, MethodCounts
	}
	return TransportHTTP, ""
}

func readBody(r *http.Request) ([]byte, error) {
	var body io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		body = zr
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, fmt.Errorf("deflate body: %w", err)
		}
		body = zr
	case "zstd":
		zr, err := zstd.NewReader(r.Body, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd body: %w", err)
		}
		defer zr.Close()
		body = zr
	default:
		return nil, fmt.Errorf("Content-Encoding %q is not supported", enc)
	}
	// Pages are megabytes: size the buffer once from Content-Length.
	buf := bytes.NewBuffer(make([]byte, 0, min(max(r.ContentLength, 0), maxBodyBytes)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(body, maxBodyBytes+1)); err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if buf.Len() > maxBodyBytes {
		return nil, fmt.Errorf("body larger than %d bytes", maxBodyBytes)
	}
	return buf.Bytes(), nil
}
