package zitadelapi

import (
	"context"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	milestonepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/milestone/v1"
	objectpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelevent"
)

// milestonePage holds every milestone type ZITADEL has, and room for more.
const milestonePage = 20

// maxMilestonesAnswer bounds the bytes of a ListMilestones answer: a page of
// milestonePage milestones takes a few hundred.
const maxMilestonesAnswer = 64 << 10

// listMilestones returns the instance's reached milestones, named as
// ZITADEL's MilestoneType without its prefix, lower case. Only the types
// ZITADEL's API defines are kept, each once: an answer with other numbers
// would make a series of each. A reached date ZITADEL cannot have written
// (at now, the scrape's clock) is left out, as an event's is.
func (c *client) listMilestones(ctx context.Context, sc scope, now time.Time) ([]activity.Milestone, error) {
	req := &adminpb.ListMilestonesRequest{
		Query: &objectpb.ListQuery{Limit: milestonePage},
		Queries: []*milestonepb.MilestoneQuery{{Query: &milestonepb.MilestoneQuery_IsReachedQuery{
			IsReachedQuery: &milestonepb.IsReachedQuery{Reached: true},
		}}},
	}
	resp := &adminpb.ListMilestonesResponse{}
	err := c.call(ctx, sc, adminpb.AdminService_ListMilestones_FullMethodName, req, resp, grpc.MaxCallRecvMsgSize(maxMilestonesAnswer))
	if err != nil {
		return nil, err
	}
	var out []activity.Milestone
	seen := map[milestonepb.MilestoneType]bool{}
	for _, m := range resp.GetResult() {
		t := m.GetType()
		_, known := milestonepb.MilestoneType_name[int32(t)]
		if m.GetReachedDate() == nil || t == milestonepb.MilestoneType_MILESTONE_TYPE_UNSPECIFIED || !known || seen[t] ||
			!zitadelevent.Plausible(m.GetReachedDate().AsTime(), now) {
			continue
		}
		seen[t] = true
		out = append(out, activity.Milestone{
			Type:      strings.ToLower(strings.TrimPrefix(t.String(), "MILESTONE_TYPE_")),
			ReachedAt: m.GetReachedDate().AsTime(),
		})
	}
	return out, nil
}
