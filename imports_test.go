package zitadeltelemetry

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/otelcol-zitadel/zitadeltelemetry"

// The packages that name the shared concepts, and the adapters and
// generated code below them.
var (
	conceptPackages = []string{"audittrail", "confignumbers", "contract", "drain", "health", "idhash", "report", "schedule", "testkit"}
	componentDirs   = []string{"zitadelreceiver", "zitadelexporter", "zitadeltelemetryreceiver"}
)

// TestImportsRunOneWay holds the layout CONTRIBUTING.md
// draws: components import the internal concepts, which import the
// adapters and generated code, never the other way round; the root never
// imports the telemetry receiver's package, which never imports the root.
func TestImportsRunOneWay(t *testing.T) {
	imports := moduleImports(t)
	if len(imports) < 20 {
		t.Fatalf("found %d packages; the walk missed the module", len(imports))
	}
	isComponent := func(p string) bool {
		for _, c := range componentDirs {
			if p == c || strings.HasPrefix(p, c+"/") {
				return true
			}
		}
		return false
	}
	isConcept := func(p string) bool {
		for _, c := range conceptPackages {
			if p == "internal/"+c {
				return true
			}
		}
		return false
	}
	for pkg, deps := range imports {
		for _, dep := range deps {
			switch {
			case strings.HasPrefix(pkg, "internal/") && (dep == "." || isComponent(dep)):
				t.Errorf("%s imports %s: internal packages never import the root or a component package", pkg, dep)
			case pkg == "." && strings.HasPrefix(dep, "zitadeltelemetryreceiver"):
				t.Errorf("the root package imports %s", dep)
			case strings.HasPrefix(pkg, "zitadeltelemetryreceiver") && dep == ".":
				t.Errorf("%s imports the root package", pkg)
			case strings.HasPrefix(pkg, "internal/") && !isConcept(pkg) && pkg != "internal/e2e" && isConcept(dep):
				t.Errorf("%s imports %s: adapters and generated code never import a concept package", pkg, dep)
			}
		}
	}
}

// moduleImports lists, by directory relative to the module root ("." for
// the root), the module's own packages each one's files import, tests
// included.
func moduleImports(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "build" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if _, seen := out[dir]; !seen {
			out[dir] = nil
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			switch {
			case p == module:
				out[dir] = append(out[dir], ".")
			case strings.HasPrefix(p, module+"/"):
				out[dir] = append(out[dir], strings.TrimPrefix(p, module+"/"))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
