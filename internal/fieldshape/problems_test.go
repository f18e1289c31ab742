package fieldshape

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every reason is counted; the first MaxListedProblems are named, the rest
// counted in the text as the caller words it.
func TestProblemsNameTheFirstAndCountTheRest(t *testing.T) {
	var p Problems
	assert.Empty(t, p.String())
	for i := range MaxListedProblems + 3 {
		p.Add("value %d", i)
	}
	assert.Equal(t, MaxListedProblems+3, p.Count())
	assert.Len(t, p.Listed(), MaxListedProblems)
	assert.Equal(t, "value 0", p.Listed()[0])
	assert.Contains(t, p.String(), fmt.Sprintf("value %d; and 3 more", MaxListedProblems-1))
	assert.Contains(t, p.Join(" problems"), "; and 3 more problems")

	var few Problems
	few.Add("a")
	few.Add("b")
	assert.Equal(t, "a; b", few.Join(" problems"))
}
