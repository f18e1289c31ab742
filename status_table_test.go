package zitadeltelemetry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// stabilityLevels in the order the Collector's status tables list them.
var stabilityLevels = []string{"development", "alpha", "beta", "stable", "deprecated", "unmaintained"}

// TestComponentStatusTablesMatchMetadata: each component's README opens with
// the status table the Collector's component READMEs open with, and its type,
// stability per signal and distributions are those of the component's
// metadata.yaml, every bracketed name defined as a link.
func TestComponentStatusTablesMatchMetadata(t *testing.T) {
	for _, dir := range []string{"zitadelreceiver", "zitadelexporter", "zitadeltelemetryreceiver"} {
		t.Run(dir, func(t *testing.T) {
			var md struct {
				Type   string `yaml:"type"`
				Status struct {
					Stability     map[string][]string `yaml:"stability"`
					Distributions []string            `yaml:"distributions"`
				} `yaml:"status"`
			}
			raw, err := os.ReadFile(filepath.Join(dir, "metadata.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal(raw, &md); err != nil {
				t.Fatal(err)
			}
			readme, err := os.ReadFile(filepath.Join(dir, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			want := statusRows(t, md.Type, md.Status.Stability, md.Status.Distributions)
			got := leadingTable(string(readme))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s/README.md opens with the status table\n%s\nwant, from metadata.yaml,\n%s",
					dir, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			names := append([]string{}, md.Status.Distributions...)
			for level := range md.Status.Stability {
				names = append(names, level)
			}
			for _, name := range names {
				if !strings.Contains(string(readme), "\n["+name+"]: ") {
					t.Errorf("%s/README.md does not define the link [%s] of its status table", dir, name)
				}
			}
		})
	}
}

// statusRows are the rows, cells trimmed, of the status table metadata.yaml
// gives: the type, one stability row per level, the distributions.
func statusRows(t *testing.T, typ string, stability map[string][]string, distributions []string) []string {
	t.Helper()
	rows := []string{"Status|", "-------------|-----------", "Type|`" + typ + "`"}
	label := "Stability"
	for _, level := range stabilityLevels {
		if signals, ok := stability[level]; ok {
			rows = append(rows, label+"|["+level+"]: "+strings.Join(signals, ", "))
			label = ""
		}
	}
	if len(rows) != 3+len(stability) {
		t.Fatalf("metadata.yaml names a stability level outside %v: %v", stabilityLevels, stability)
	}
	return append(rows, "Distributions|["+strings.Join(distributions, "], [")+"]")
}

// leadingTable is the first table of a Markdown text, each row's cells trimmed
// and joined by "|".
func leadingTable(text string) []string {
	var rows []string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 {
				break
			}
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, strings.Join(cells, "|"))
	}
	return rows
}
