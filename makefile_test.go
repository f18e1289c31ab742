package zitadeltelemetry

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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

// TestNoGoGenerateDirective holds CONTRIBUTING's rule that `make metadata` is the one way to
// regenerate the components' code: a //go:generate directive would let `go generate ./...` run
// mdatagen alone and write back the generated code that the rule deletes.
func TestNoGoGenerateDirective(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "build") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for line := range strings.Lines(string(src)) {
			if strings.HasPrefix(line, "//go:generate") {
				t.Errorf("%s: %s (regenerate with `make metadata` or `make generate` instead)", path, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
