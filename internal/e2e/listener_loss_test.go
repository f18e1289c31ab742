package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"
)

var listenerLossTemplate = template.Must(template.New("listener-loss").Parse(`
receivers:
  zitadeltelemetry:
    http:
      endpoint: {{.HTTPAddr}}
    grpc:
      endpoint: {{.GRPCAddr}}
exporters:
  debug:
    verbosity: basic
` + serviceTelemetryYAML + `  pipelines:
    metrics:
      receivers: [zitadeltelemetry]
      exporters: [debug]
`))

// TestTelemetryReceiverListenerLossIsFatal takes the listening socket away
// from under the built collector's running telemetry receiver, as the kernel
// does to a socket it aborts (`ss -K`): the receiver reports a fatal error, on
// which the collector stops, so that it is restarted instead of running on as
// a pod that looks healthy and refuses every report.
func TestTelemetryReceiverListenerLossIsFatal(t *testing.T) {
	ss := socketKiller(t)
	// Go listens with multipath TCP where the kernel has it, and the kernel
	// aborts only plain TCP sockets; the wires are the same.
	t.Setenv("GODEBUG", "multipathtcp=0")
	for _, wire := range []string{"http", "grpc"} {
		t.Run(wire, func(t *testing.T) {
			v := struct{ HTTPAddr, GRPCAddr, TelemetryPort string }{HTTPAddr: freeAddr(t), GRPCAddr: freeAddr(t)}
			path := filepath.Join(t.TempDir(), "collector.yaml")
			writeConfig(t, path, listenerLossTemplate, v)
			c := startCollector(t, collectorBinary(t), path)
			addr := map[string]string{"http": v.HTTPAddr, "grpc": v.GRPCAddr}[wire]
			waitForListener(t, c, addr)

			_, port, _ := net.SplitHostPort(addr)
			if out, err := exec.Command(ss, "-K", "-tln", "sport = :"+port).CombinedOutput(); err != nil {
				t.Fatalf("ss -K: %v\n%s", err, out)
			}
			select {
			case <-c.exited:
			case <-time.After(30 * time.Second):
				if out, _ := exec.Command(ss, "-tln", "sport = :"+port).Output(); strings.Contains(string(out), "LISTEN") {
					t.Fatalf("the kernel kept the socket on %s listening", addr)
				}
				t.Fatalf("the collector kept running for 30 s after losing its %s listener; output:\n%s", wire, c.out.String())
			}
			// The collector stops on a component's fatal error (it exits 0 then,
			// which a Deployment's restartPolicy: Always restarts all the same).
			out := c.out.String()
			for _, want := range []string{
				"TelemetryService server stopped serving", `"otelcol.component.id": "zitadeltelemetry"`,
				"Asynchronous error received, terminating process", "accept tcp " + addr,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("the collector's output does not say %q:\n%s", want, out)
				}
			}
		})
	}
}

// socketKiller returns ss (iproute2), which aborts a socket as root; make test
// installs iproute2 when missing.
func socketKiller(t *testing.T) string {
	t.Helper()
	ss, err := exec.LookPath("ss")
	if err == nil && os.Geteuid() == 0 {
		kernelAbortsSockets(t, ss)
		return ss
	}
	const hint = "aborting a socket needs ss from iproute2 and root: run it through make test as root"
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot abort a socket (ss: %v, uid %d): %s", err, os.Geteuid(), hint)
	}
	t.Skip(hint)
	return ""
}

// kernelAbortsSockets skips the test on a kernel built without socket
// destruction (CONFIG_INET_DIAG_DESTROY), where ss -K aborts nothing: it
// aborts a listener of the test's own first.
func kernelAbortsSockets(t *testing.T, ss string) {
	t.Helper()
	var lc net.ListenConfig
	lc.SetMultipathTCP(false)
	l, err := lc.Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	if out, err := exec.Command(ss, "-K", "-tln", "sport = :"+port).CombinedOutput(); err != nil {
		t.Fatalf("ss -K: %v\n%s", err, out)
	}
	select {
	case err := <-accepted:
		if err == nil {
			t.Fatal("the probe listener accepted a connection nobody made")
		}
	case <-time.After(5 * time.Second):
		t.Skip("this kernel does not abort sockets (ss -K needs CONFIG_INET_DIAG_DESTROY)")
	}
}
