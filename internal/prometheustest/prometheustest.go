// Package prometheustest runs Debian's Prometheus and promtool for tests: a
// real Prometheus on a free loopback port with its own configuration and data
// directory, stopped when the test ends.
package prometheustest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Binary returns the path of a Prometheus tool (prometheus, promtool). Without
// it the test is skipped, unless CI=true, where a missing tool is a failure.
func Binary(tb testing.TB, name string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	const hint = "install Debian's prometheus package (scripts/test.sh does as root)"
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is not installed: %s", name, hint)
	}
	tb.Skipf("%s is not installed: %s", name, hint)
	return ""
}

// Server is a running Prometheus.
type Server struct {
	URL string
}

// Start runs Prometheus with the given configuration file content; files are
// written next to it (rules files the configuration names, say).
func Start(tb testing.TB, config string, files map[string][]byte) *Server {
	tb.Helper()
	bin := Binary(tb, "prometheus")
	dir := tb.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			tb.Fatal(err)
		}
	}
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		tb.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		tb.Fatal(err)
	}
	addr := freeAddr(tb)
	cmd := exec.Command(bin, "--config.file="+configPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &Server{URL: "http://" + addr}
	tb.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		out.Close()
		if tb.Failed() {
			log, _ := os.ReadFile(out.Name())
			tb.Logf("prometheus log:\n%s", log)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(out.Name())
			tb.Fatalf("prometheus exited at start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatal("prometheus not ready after 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Sample is one series of an instant vector.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  float64
}

type apiResponse struct {
	Status    string          `json:"status"`
	Error     string          `json:"error"`
	ErrorType string          `json:"errorType"`
	Data      json.RawMessage `json:"data"`
}

func (s *Server) get(ctx context.Context, path string, params url.Values) (json.RawMessage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path+"?"+params.Encode(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r apiResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %w", path, resp.StatusCode, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s: %s", path, r.ErrorType, r.Error)
	}
	return r.Data, nil
}

// Query evaluates expr now and returns the instant vector it gives; a scalar
// or a range vector is an error.
func (s *Server) Query(ctx context.Context, expr string) ([]Sample, error) {
	data, err := s.get(ctx, "/api/v1/query", url.Values{"query": {expr}})
	if err != nil {
		return nil, err
	}
	var v struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		} `json:"result"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	if v.ResultType != "vector" {
		return nil, fmt.Errorf("%s gives a %s, not an instant vector", expr, v.ResultType)
	}
	out := make([]Sample, 0, len(v.Result))
	for _, r := range v.Result {
		str, _ := r.Value[1].(string)
		var f float64
		if _, err := fmt.Sscan(str, &f); err != nil && !strings.EqualFold(str, "NaN") {
			return nil, fmt.Errorf("%s: value %q: %w", expr, str, err)
		}
		out = append(out, Sample{Metric: r.Metric, Value: f})
	}
	return out, nil
}

// Series returns the label sets of every series a selector matches.
func (s *Server) Series(ctx context.Context, selector string) ([]map[string]string, error) {
	data, err := s.get(ctx, "/api/v1/series", url.Values{"match[]": {selector}})
	if err != nil {
		return nil, err
	}
	var out []map[string]string
	return out, json.Unmarshal(data, &out)
}

// LabelValues returns the values of a label on the series a selector matches.
func (s *Server) LabelValues(ctx context.Context, label, selector string) ([]string, error) {
	data, err := s.get(ctx, "/api/v1/label/"+url.PathEscape(label)+"/values", url.Values{"match[]": {selector}})
	if err != nil {
		return nil, err
	}
	var out []string
	return out, json.Unmarshal(data, &out)
}

// Targets returns the health of every scrape target by its scrape URL.
func (s *Server) Targets(ctx context.Context) (map[string]string, error) {
	data, err := s.get(ctx, "/api/v1/targets", url.Values{"state": {"active"}})
	if err != nil {
		return nil, err
	}
	var v struct {
		ActiveTargets []struct {
			ScrapeURL string `json:"scrapeUrl"`
			Health    string `json:"health"`
			LastError string `json:"lastError"`
		} `json:"activeTargets"`
	}
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, t := range v.ActiveTargets {
		out[t.ScrapeURL] = t.Health + " " + t.LastError
	}
	return out, nil
}

func freeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
