package zitadeltelemetry

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeTestInstallsItsTools holds the README's promise that `make test` installs
// what it needs on a fresh machine: with an empty tool directory, the dry run of
// `make test` installs ocb and golangci-lint before it runs the tests with them.
// A tool variable defined below the rule that names it expands to nothing there,
// so the tool is never built and the run fails only on a clean checkout.
func TestMakeTestInstallsItsTools(t *testing.T) {
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Fatalf("make is not installed: %v", err)
	}
	bin := t.TempDir()
	out, err := exec.Command(makePath, "--dry-run", "--always-make", "test", "BIN="+bin).CombinedOutput()
	if err != nil {
		t.Fatalf("make --dry-run test: %v\n%s", err, out)
	}
	lines := strings.Split(string(out), "\n")
	runAt := indexOf(lines, "./scripts/test.sh")
	if runAt < 0 {
		t.Fatalf("make test does not run scripts/test.sh:\n%s", out)
	}
	for _, tool := range []string{
		"go install go.opentelemetry.io/collector/cmd/builder@",
		"go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@",
	} {
		at := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "GOBIN="+bin+" ") && strings.Contains(l, tool) {
				at = i
				break
			}
		}
		if at < 0 || at > runAt {
			t.Errorf("make test on an empty %s does not run %q before the tests:\n%s", bin, tool, out)
		}
	}
	if !strings.Contains(lines[runAt], "GOLANGCI_LINT="+bin+"/golangci-lint-") {
		t.Errorf("make test does not hand the installed golangci-lint to scripts/test.sh: %q", lines[runAt])
	}
}

func indexOf(lines []string, substr string) int {
	for i, l := range lines {
		if strings.Contains(l, substr) {
			return i
		}
	}
	return -1
}
