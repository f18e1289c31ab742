package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type kept struct {
	instances []Instance
	counts    []Count
}

func (k *kept) RecordInstance(in Instance) { k.instances = append(k.instances, in) }
func (k *kept) RecordCount(c Count)        { k.counts = append(k.counts, c) }

func TestCheckedRecorderLeavesOutOnlyWhatIsRefused(t *testing.T) {
	next := &kept{}
	r := NewCheckedRecorder(next)
	r.RecordInstance(Instance{ID: "i1", Version: "v4.2.0 beta", Domains: []string{"a b.example.com", "login.example.com", "x_y.example.com", "auth.example.com"}})
	r.RecordInstance(Instance{ID: "i2", Domains: []string{"i2.example.com"}})
	good := Count{InstanceID: "i1", ParentType: ParentOrganization, ParentID: "o1", Resource: "user", Table: "projections.users14", Amount: 3}
	r.RecordCount(good)
	bad := good
	bad.ParentID = "jane.doe@example.com"
	r.RecordCount(bad)
	bad = good
	bad.ParentType = "person"
	r.RecordCount(bad)

	require.Len(t, next.instances, 2)
	assert.Equal(t, []string{"login.example.com", "auth.example.com"}, next.instances[0].Domains)
	assert.Empty(t, next.instances[0].Version)
	assert.Equal(t, []string{"i2.example.com"}, next.instances[1].Domains)
	assert.Equal(t, []Count{good}, next.counts)
	n, err := r.Refused()
	assert.Equal(t, 5, n, "%v", err)
	assert.NotContains(t, err.Error(), "jane")
}

func TestCheckedRecorderAllocatesNothingForGoodCounts(t *testing.T) {
	r := NewCheckedRecorder(discard{})
	c := Count{
		InstanceID: "312000000000000001", ParentType: ParentOrganization, ParentID: "312000000000000101",
		Resource: "user", Table: "projections.users14", Amount: 5,
	}
	assert.Zero(t, testing.AllocsPerRun(100, func() { r.RecordCount(c) }))
}

type discard struct{}

func (discard) RecordInstance(Instance) {}
func (discard) RecordCount(Count)       {}
