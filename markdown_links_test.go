package zitadeltelemetry

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// TestMarkdownLinksResolve follows every relative link of every Markdown
// file of the repository: the file or directory must exist and, for a
// #fragment, the Markdown file must have that heading as GitHub names it.
// A section moved to another file, or renamed, fails here.
func TestMarkdownLinksResolve(t *testing.T) {
	files := markdownFiles(t)
	if len(files) < 10 {
		t.Fatalf("found %d Markdown files; the walk missed the repository", len(files))
	}
	anchors := map[string]map[string]bool{}
	anchorsOf := func(path string) map[string]bool {
		if a, ok := anchors[path]; ok {
			return a
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		anchors[path] = headingAnchors(string(text))
		return anchors[path]
	}
	checked := 0
	for _, file := range files {
		text, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range relativeLinks(string(text)) {
			checked++
			target, fragment, _ := strings.Cut(l.target, "#")
			path := file
			if target != "" {
				path = filepath.Join(filepath.Dir(file), filepath.FromSlash(target))
				if _, err := os.Stat(path); err != nil {
					t.Errorf("%s:%d: %s: %s does not exist", file, l.line, l.target, path)
					continue
				}
			}
			if fragment == "" {
				continue
			}
			if !strings.HasSuffix(path, ".md") {
				t.Errorf("%s:%d: %s: a fragment of a file that is not Markdown", file, l.line, l.target)
			} else if !anchorsOf(path)[fragment] {
				t.Errorf("%s:%d: %s: %s has no heading #%s", file, l.line, l.target, path, fragment)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("checked %d links; the parser missed them", checked)
	}
}

// TestMarkdownLinkParsing holds the parser to the shapes the repository's
// Markdown uses, and to what it must leave alone.
func TestMarkdownLinkParsing(t *testing.T) {
	text := "# Receiver `zitadel`\n" +
		"See [a](../README.md#the-components-own-metrics), [b](#its-health) and ![c](img.png \"title\").\n" +
		"Not [web](https://example.com), [mail](mailto:a@b.c) or `[code](x.md)`.\n" +
		"```yaml\n[fenced](nowhere.md)\n```\n" +
		"[ref]: docs/benchmarks.md#distribution-size\n[comment]: <> (generated)\n" +
		"## Its own metrics (`otelcol_*`)\n## Its own metrics (`otelcol_*`)\n"
	var got []string
	for _, l := range relativeLinks(text) {
		got = append(got, l.target)
	}
	want := []string{"../README.md#the-components-own-metrics", "#its-health", "img.png", "docs/benchmarks.md#distribution-size"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("links = %q, want %q", got, want)
	}
	anchors := headingAnchors(text)
	for _, a := range []string{"receiver-zitadel", "its-own-metrics-otelcol_", "its-own-metrics-otelcol_-1"} {
		if !anchors[a] {
			t.Errorf("no anchor %s in %v", a, anchors)
		}
	}
}

func markdownFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "build" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

type markdownLink struct {
	target string
	line   int
}

var (
	inlineLink    = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	referenceLink = regexp.MustCompile(`^\s*\[[^\]]+\]:\s*(\S+)`)
	codeSpan      = regexp.MustCompile("`[^`]*`")
	urlScheme     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:`)
)

// relativeLinks lists the links of a Markdown text that point into the
// repository, outside code blocks and code spans.
func relativeLinks(text string) []markdownLink {
	var out []markdownLink
	fenced := false
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		if fenced {
			continue
		}
		line = codeSpan.ReplaceAllString(line, "")
		var targets []string
		for _, m := range inlineLink.FindAllStringSubmatch(line, -1) {
			targets = append(targets, m[1])
		}
		if m := referenceLink.FindStringSubmatch(line); m != nil {
			targets = append(targets, m[1])
		}
		for _, target := range targets {
			target = strings.TrimSuffix(strings.TrimPrefix(target, "<"), ">")
			if target != "" && !urlScheme.MatchString(target) {
				out = append(out, markdownLink{target: target, line: i + 1})
			}
		}
	}
	return out
}

var headingLink = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)

// headingAnchors names a Markdown text's headings as GitHub does: lower
// case, letters, digits, spaces, hyphens and underscores kept, spaces made
// hyphens, and -1, -2, ... after a repeated name.
func headingAnchors(text string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	fenced := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
		}
		if fenced || !strings.HasPrefix(line, "#") {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(line, "#"))
		heading = headingLink.ReplaceAllString(heading, "$1")
		var b strings.Builder
		for _, r := range strings.ToLower(heading) {
			switch {
			case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
				b.WriteRune(r)
			case r == ' ':
				b.WriteRune('-')
			}
		}
		anchor := b.String()
		if n := seen[anchor]; n > 0 {
			out[anchor+"-"+strconv.Itoa(n)] = true
		} else {
			out[anchor] = true
		}
		seen[anchor]++
	}
	return out
}
