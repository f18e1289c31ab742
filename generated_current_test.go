package zitadeltelemetry

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedCodeIsCurrent holds the generated code to its metadata.yaml:
// `make metadata` run on a copy of the module must write what is committed,
// file for file. The own metrics' units, descriptions and kinds live in that
// code, so a metadata.yaml changed without regenerating fails here.
func TestGeneratedCodeIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mdatagen")
	}
	tracked, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	copyDir := t.TempDir()
	for _, name := range strings.Fields(string(tracked)) {
		data, err := os.ReadFile(name)
		if err != nil {
			continue // deleted in the working tree
		}
		dst := filepath.Join(copyDir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("make", "metadata")
	cmd.Dir = copyDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make metadata: %v\n%s", err, out)
	}
	generated := func(root string) map[string][]byte {
		files := map[string][]byte{}
		_ = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if strings.HasPrefix(filepath.Base(rel), "generated_") || filepath.Base(rel) == "documentation.md" {
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				files[rel] = data
			}
			return nil
		})
		return files
	}
	var want, got map[string][]byte
	for _, dir := range []string{
		"zitadelreceiver", "zitadelexporter", "zitadeltelemetryreceiver",
		"internal/zitadelreceivermetadata", "internal/zitadelexportermetadata",
	} {
		want, got = addUnder(want, generated(dir), dir), addUnder(got, generated(filepath.Join(copyDir, dir)), dir)
	}
	for name, data := range got {
		if !bytes.Equal(data, want[name]) {
			t.Errorf("%s differs from what make metadata writes from metadata.yaml: run make metadata", name)
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("%s is committed but make metadata does not write it", name)
		}
	}
}

func addUnder(into, files map[string][]byte, dir string) map[string][]byte {
	if into == nil {
		into = map[string][]byte{}
	}
	for name, data := range files {
		into[filepath.Join(dir, name)] = data
	}
	return into
}
