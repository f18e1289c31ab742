package fieldshape

import (
	"fmt"
	"strings"
)

// MaxListedProblems bounds how many refused values an error names.
const MaxListedProblems = 10

// Problems collects the reasons values were refused: every one is counted,
// the first MaxListedProblems are kept to be named.
type Problems struct {
	listed []string
	count  int
}

// Add records one reason.
func (p *Problems) Add(format string, args ...any) {
	p.count++
	if len(p.listed) < MaxListedProblems {
		p.listed = append(p.listed, fmt.Sprintf(format, args...))
	}
}

// Count is how many reasons were added.
func (p *Problems) Count() int { return p.count }

// Listed are the reasons kept to be named.
func (p *Problems) Listed() []string { return p.listed }

// Join names the listed reasons and how many more there were, as
// "a; b; and 3 more" followed by more (" problems", or "").
func (p *Problems) Join(more string) string {
	text := strings.Join(p.listed, "; ")
	if rest := p.count - len(p.listed); rest > 0 {
		text += fmt.Sprintf("; and %d more%s", rest, more)
	}
	return text
}

// String is Join("").
func (p *Problems) String() string { return p.Join("") }
