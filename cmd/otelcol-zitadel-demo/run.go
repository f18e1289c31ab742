package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// runDemo starts the simulated ZITADEL and the telemetry endpoint as child
// processes, runs the collector against them until one complete report has
// arrived, prints it, and stops all three.
func runDemo(args []string) error {
	fs := flag.NewFlagSet("otelcol-zitadel-demo", flag.ContinueOnError)
	collector := fs.String("collector", "build/otelcol-zitadel-src/otelcol-zitadel", "the otelcol-zitadel binary")
	config := fs.String("config", "testdata/demo.yaml", "the collector configuration")
	instances := fs.Int("instances", 3, "instances of the simulated ZITADEL")
	orgs := fs.Int("orgs", 150, "organizations per instance")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long to wait for a complete report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	dir, err := os.MkdirTemp("", "otelcol-zitadel-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	self, err := os.Executable()
	if err != nil {
		return err
	}

	keyFile := filepath.Join(dir, "system-user.pem")
	zitadel, zAddr, err := startChild("zitadel", self, "serve-zitadel",
		"-instances", fmt.Sprint(*instances), "-orgs", fmt.Sprint(*orgs), "-system-key-out", keyFile)
	if err != nil {
		return err
	}
	defer func() { _ = zitadel.stop() }() // on the way out the demo's own error is the one to print
	telemetry, tAddr, err := startChild("telemetry", self, "serve-telemetry")
	if err != nil {
		return err
	}
	defer func() { _ = telemetry.stop() }()
	promAddr, err := freeAddr()
	if err != nil {
		return err
	}

	fmt.Printf("simulated ZITADEL   grpc://%s  (%d instances x %d organizations)\n", zAddr.GRPC, *instances, *orgs)
	fmt.Printf("telemetry endpoint  %s\n", tAddr.HTTP)
	fmt.Printf("prometheus          http://%s/metrics\n", promAddr)
	fmt.Printf("collector           %s --config %s\n\n", *collector, *config)
	env := []string{
		"ZITADEL_API_ENDPOINT=" + zAddr.GRPC,
		"ZITADEL_SYSTEM_USER=" + demoSystemUser,
		"ZITADEL_SYSTEM_USER_KEY_FILE=" + keyFile,
		"ZITADEL_TELEMETRY_ENDPOINT=" + tAddr.HTTP + "/api/ping",
		"PROMETHEUS_ENDPOINT=" + promAddr,
	}
	col, err := startProcess(dir, "collector", *collector, []string{"--config", *config}, env)
	if err != nil {
		return err
	}
	defer func() { _ = col.stop() }()

	spec := demoSpec(*instances, *orgs)
	want := len(fakezitadel.Generate(spec).ExpectedReported())
	state, err := waitForReport(ctx, tAddr.Admin, *instances, want, time.Time{}, col)
	if err != nil {
		return err
	}
	if err := printSummary(os.Stdout, state); err != nil {
		return err
	}
	series, err := countSeries("http://" + promAddr + "/metrics")
	if err != nil {
		return fmt.Errorf("prometheus exporter: %w", err)
	}
	fmt.Printf("\nprometheus exporter: %d zitadel_resource_count series at http://%s/metrics\n", series, promAddr)

	// Growth needs a second scrape of a grown installation. The receiver counts
	// at most once a minute (collection_interval's minimum), so instead of
	// waiting for the next interval the demo restarts the collector, which
	// counts at once (initial_delay: 0s), as any restart in production does.
	if err := postAdmin(ctx, zAddr.Admin+"/grow"); err != nil {
		return fmt.Errorf("grow the simulated ZITADEL: %w", err)
	}
	if err := col.stop(); err != nil {
		return fmt.Errorf("collector did not stop cleanly: %w", err)
	}
	restarted := time.Now()
	col, err = startProcess(dir, "collector-restarted", *collector, []string{"--config", *config}, env)
	if err != nil {
		return err
	}
	defer func() { _ = col.stop() }()
	grown, err := waitForReport(ctx, tAddr.Admin, *instances, len(grownDataset(spec).ExpectedReported()), restarted, col)
	if err != nil {
		return err
	}
	printGrowth(os.Stdout, state, grown)

	if err := col.stop(); err != nil {
		return fmt.Errorf("collector did not stop cleanly: %w", err)
	}
	fmt.Println("collector stopped cleanly; done.")
	return nil
}

func postAdmin(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// waitForReport polls the telemetry endpoint until a system has reported
// every instance and every row of the dataset, each row observed at or after
// since; it prints the end of the collector's log when none arrives.
func waitForReport(ctx context.Context, admin string, instances, rows int, since time.Time, col *process) ([]reportedSystem, error) {
	state, err := pollReport(ctx, admin, instances, rows, since, col)
	if err != nil {
		fmt.Fprintf(os.Stderr, "collector log (%s):\n%s\n", col.logPath, tail(col.logPath, 40))
	}
	return state, err
}

func pollReport(ctx context.Context, admin string, instances, rows int, since time.Time, col *process) ([]reportedSystem, error) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		state, err := fetchState(ctx, admin)
		if err == nil {
			for _, s := range state {
				if len(s.base.GetInstances()) == instances && len(s.counts.GetResourceCounts()) == rows &&
					!observedAt(s.counts.GetResourceCounts()).oldest.Before(since) {
					return state, nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no complete report (%d instances, %d rows) arrived in time: %w", instances, rows, ctx.Err())
		case <-col.exited:
			return nil, fmt.Errorf("the collector exited: %w", col.err)
		case <-tick.C:
		}
	}
}

func countSeries(url string) (int, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "zitadel_resource_count{") {
			n++
		}
	}
	return n, sc.Err()
}

// process is a child process whose output goes to a log file; it dies with
// the demo (Pdeathsig) so nothing is left behind even on a crash.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
	err     error
}

func startProcess(dir, name, path string, args, env []string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	return p, nil
}

// startChild runs this binary in one of its serve modes and reads the
// addresses it announces.
func startChild(name, self string, args ...string) (*process, listening, error) {
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, listening{}, err
	}
	if err := cmd.Start(); err != nil {
		return nil, listening{}, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, exited: make(chan struct{})}
	var l listening
	decodeErr := json.NewDecoder(out).Decode(&l)
	go func() {
		_, _ = io.Copy(io.Discard, out)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	if decodeErr != nil {
		_ = p.stop()
		return nil, listening{}, fmt.Errorf("%s did not start: %w", name, decodeErr)
	}
	return p, l, nil
}

// stop sends SIGTERM, waits up to ten seconds, then kills. It returns the
// process's exit error when it had to be killed or exited non-zero.
func (p *process) stop() error {
	select {
	case <-p.exited:
		return p.err
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.err
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return errors.New(p.name + " ignored SIGTERM and was killed")
	}
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
