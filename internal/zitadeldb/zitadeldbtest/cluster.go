package zitadeldbtest

import (
	"context"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// dataDirectory is the cluster's data directory and its owner; a test that
// needs it is skipped, saying why, where the cluster runs elsewhere.
func (d *DB) dataDirectory(tb testing.TB, why string) (string, *syscall.Stat_t) {
	tb.Helper()
	var dir string
	if err := d.Conn.QueryRow(context.Background(), "SHOW data_directory").Scan(&dir); err != nil {
		tb.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		tb.Skipf("the cluster's data directory is not on this machine (%v): %s", err, why)
	}
	return dir, info.Sys().(*syscall.Stat_t)
}

// RestartCluster restarts the PostgreSQL cluster with the options it was
// started with (pg_ctl restart -m fast), as the owner of its data directory,
// and opens Conn again: every session, the test's own included, ends.
func (d *DB) RestartCluster(tb testing.TB) {
	tb.Helper()
	dataDir, owner := d.dataDirectory(tb, "it cannot be restarted")
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		tb.Fatal("pg_ctl not found")
	}
	sort.Strings(bins)
	// The server's log goes to a file of its own: the restarted server
	// lives on after pg_ctl and would hold a pipe open for good.
	logFile := filepath.Join(os.TempDir(), "zitadel-test-pg-restart-"+strconv.Itoa(os.Getpid())+".log")
	args := []string{bins[len(bins)-1], "restart", "-D", dataDir, "-m", "fast", "-w", "-t", "60", "-s", "-l", logFile}
	if uid := int(owner.Uid); os.Getuid() != uid {
		u, err := user.LookupId(strconv.Itoa(uid))
		if err != nil {
			tb.Fatal(err)
		}
		args = append([]string{"runuser", "-u", u.Username, "--"}, args...)
	}
	// pg_ctl's own output goes to a file too, not a pipe the server could
	// inherit.
	out, err := os.Create(filepath.Join(tb.TempDir(), "pg_ctl.out"))
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		text, _ := os.ReadFile(out.Name())
		tb.Fatalf("pg_ctl restart: %v: %s", err, text)
	}
	_ = d.Conn.Close(context.Background())
	if d.Conn, err = pgx.Connect(context.Background(), d.DSN); err != nil {
		tb.Fatal(err)
	}
}
