package zitadeltelemetryreceiver

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer/consumertest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/testkit"
)

// listeningFD finds this process's listening socket on addr's port: the
// receiver keeps its listener to itself, as a running collector does.
func listeningFD(t *testing.T, addr string) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	table, err := os.ReadFile("/proc/self/net/tcp")
	require.NoError(t, err)
	var inode string
	for _, line := range strings.Split(string(table), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 9 && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", p)) && f[3] == "0A" { // 0A: listening
			inode = f[9]
		}
	}
	require.NotEmpty(t, inode, "no listening socket on %s", addr)
	fds, err := filepath.Glob("/proc/self/fd/*")
	require.NoError(t, err)
	for _, fd := range fds {
		if target, _ := os.Readlink(fd); target == "socket:["+inode+"]" {
			n, err := strconv.Atoi(filepath.Base(fd))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatalf("no descriptor for socket %s", inode)
	return -1
}

// A listener that fails after start is a fatal error the host hears of, on
// either server; shutting down is not.
func TestAListenerThatStopsServingIsFatal(t *testing.T) {
	for _, server := range []string{"http", "grpc"} {
		t.Run(server, func(t *testing.T) {
			host := &testkit.StatusHost{}
			u := startTelemetryReceiverOn(t, host, &consumertest.MetricsSink{}, nil)
			addr := u.grpcAddr
			if server == "http" {
				addr = strings.SplitN(u.httpURL, "/", 4)[2] // http://host:port/path
			}
			// Shut the socket down under the server: accept fails for good.
			require.NoError(t, syscall.Shutdown(listeningFD(t, addr), syscall.SHUT_RDWR))
			require.Eventually(t, func() bool { return len(host.Events()) > 0 }, 5*time.Second, 10*time.Millisecond,
				"no status was reported for a listener that stopped serving")
			ev := host.Events()[0]
			assert.Equal(t, componentstatus.StatusFatalError, ev.Status())
			assert.Error(t, ev.Err())
		})
	}
	host := &testkit.StatusHost{}
	u := startTelemetryReceiverOn(t, host, &consumertest.MetricsSink{}, nil)
	require.NoError(t, u.r.Shutdown(t.Context()))
	assert.Empty(t, host.Events(), "shutting down was reported as an error")
}
