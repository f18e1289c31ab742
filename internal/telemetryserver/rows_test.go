package telemetryserver

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

func TestRowStoreDeduplicatesOnTheWholeKey(t *testing.T) {
	at := func(minute int) *timestamppb.Timestamp {
		return timestamppb.New(time.Date(2025, 6, 1, 12, minute, 0, 0, time.UTC))
	}
	s := newRowStore()
	// Two parents in turns, and one parent with more rows than a linear search
	// handles, each row sent three times with different observations.
	for round, minute := range []int{5, 1, 9} {
		for r := range 2 * linearSearchRows {
			for _, parent := range []string{"o1", "o2"} {
				if parent == "o2" && r >= 3 {
					continue
				}
				s.put(&analytics.ResourceCount{
					InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
					ParentId: parent, ResourceName: fmt.Sprintf("resource-%d", r), TableName: "projections.t",
					UpdatedAt: at(minute), Amount: uint32(round),
				})
			}
		}
	}
	// The same resource from another table, and under the instance as parent.
	s.put(&analytics.ResourceCount{
		InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION,
		ParentId: "o1", ResourceName: "resource-0", TableName: "projections.t2", UpdatedAt: at(0),
	})
	s.put(&analytics.ResourceCount{
		InstanceId: "i1", ParentType: analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE,
		ParentId: "o1", ResourceName: "resource-0", TableName: "projections.t", UpdatedAt: at(0),
	})

	rows := s.all()
	assert.Len(t, rows, 2*linearSearchRows+3+2)
	assert.Equal(t, len(rows), s.size)
	for _, rc := range rows {
		if rc.TableName == "projections.t" && rc.ParentType == analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION {
			assert.Equal(t, uint32(2), rc.Amount, "the latest observation (minute 9, round 2) wins: %v", rc)
		}
	}
}
