package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

func report(at time.Time, orgs, users uint32, projectsPerOrg ...uint32) reportedSystem {
	inst := analytics.CountParentType_COUNT_PARENT_TYPE_INSTANCE
	org := analytics.CountParentType_COUNT_PARENT_TYPE_ORGANIZATION
	rows := []*analytics.ResourceCount{
		{InstanceId: "i1", ParentType: inst, ParentId: "i1", ResourceName: "organization", Amount: orgs, UpdatedAt: timestamppb.New(at)},
		{InstanceId: "i1", ParentType: inst, ParentId: "i1", ResourceName: "user", Amount: users, UpdatedAt: timestamppb.New(at)},
	}
	for i, n := range projectsPerOrg {
		rows = append(rows, &analytics.ResourceCount{
			InstanceId: "i1", ParentType: org, ParentId: string(rune('a' + i)),
			ResourceName: "project", Amount: n, UpdatedAt: timestamppb.New(at),
		})
	}
	return reportedSystem{
		base:   &analytics.ReportBaseInformationRequest{SystemId: "s1", Instances: []*analytics.InstanceInformation{{Id: "i1"}}},
		counts: &analytics.ReportResourceCountsRequest{SystemId: "s1", ResourceCounts: rows},
	}
}

func TestGrowthLineComparesTheTwoScrapes(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	before := report(t0, 20, 200, 2, 2)
	after := report(t0.Add(90*time.Second), 21, 250, 2, 2, 1)
	var out bytes.Buffer
	printGrowth(&out, []reportedSystem{before}, []reportedSystem{after})
	want := "growth between two scrapes 1m30s apart: orgs +1 (+5.0%), users +50 (+25.0%), machine users +0, projects +1 (+25.0%), apps +0"
	if got := strings.TrimSpace(out.String()); got != want {
		t.Errorf("growth line\n got %s\nwant %s", got, want)
	}
}
