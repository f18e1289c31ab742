package zitadelapi

import (
	"context"
	"strings"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	milestonepb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/milestone/v1"
	objectpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/object"
)

// milestonePage holds every milestone type ZITADEL has, and room for more.
const milestonePage = 20

// listMilestones returns the instance's reached milestones, named as
// ZITADEL's MilestoneType without its prefix, lower case.
func (c *client) listMilestones(ctx context.Context, sc scope) ([]activity.Milestone, error) {
	req := &adminpb.ListMilestonesRequest{
		Query: &objectpb.ListQuery{Limit: milestonePage},
		Queries: []*milestonepb.MilestoneQuery{{Query: &milestonepb.MilestoneQuery_IsReachedQuery{
			IsReachedQuery: &milestonepb.IsReachedQuery{Reached: true},
		}}},
	}
	resp := &adminpb.ListMilestonesResponse{}
	if err := c.call(ctx, sc, adminpb.AdminService_ListMilestones_FullMethodName, req, resp); err != nil {
		return nil, err
	}
	var out []activity.Milestone
	for _, m := range resp.GetResult() {
		if m.GetReachedDate() == nil || m.GetType() == milestonepb.MilestoneType_MILESTONE_TYPE_UNSPECIFIED {
			continue
		}
		out = append(out, activity.Milestone{
			Type:      strings.ToLower(strings.TrimPrefix(m.GetType().String(), "MILESTONE_TYPE_")),
			ReachedAt: m.GetReachedDate().AsTime(),
		})
	}
	return out, nil
}
