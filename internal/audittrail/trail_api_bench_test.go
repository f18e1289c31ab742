package audittrail

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	adminpb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/admin"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelapi"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadelreceivermetadata"
)

const (
	benchPAT       = "audit-bench-token"
	benchAPILogins = 4000 // five events each: 20 pages of ListEvents
)

// startFakeWithLogins is a fake ZITADEL whose first instance has had
// benchAPILogins password logins through the Session API, apart by spacing.
func startFakeWithLogins(b *testing.B, spacing time.Duration) (*fakezitadel.Server, string) {
	b.Helper()
	spec := fakezitadel.DefaultSpec()
	spec.Instances = 1
	srv := fakezitadel.NewServer(fakezitadel.Generate(spec), fakezitadel.Options{PATs: map[string]string{benchPAT: ""}})
	if err := srv.Start("127.0.0.1:0", ""); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	in := srv.Dataset().Instances[0]
	start := time.Now().Add(-2 * time.Hour)
	for i := range benchAPILogins {
		srv.Write(in.ID, start.Add(time.Duration(i)*spacing), func(w *fakezitadel.Writer) {
			w.Login(fakezitadel.Login{
				UserID: fmt.Sprintf("3129%014d", i%997), Org: in.Orgs[i%len(in.Orgs)], ClientID: "app-web",
				AuthMethods: []int{fakezitadel.AuthPassword},
			})
		})
	}
	return srv, in.ID
}

// BenchmarkTrailFromAPI delivers every event of the last three hours of an
// instance through ListEvents into a consumer that takes everything, at 5
// events a second of the instance (a login a second) and at the rates where
// the minute every read starts with holds more than a page. The floor is the
// same events read by bare ListEvents calls of 1,000 events, each starting
// after the last one's creation date, decoded and discarded.
func BenchmarkTrailFromAPI(b *testing.B) {
	for _, rate := range []int{5, 100, 1000} {
		b.Run(fmt.Sprintf("events-per-second=%d", rate), func(b *testing.B) {
			benchTrailFromAPI(b, time.Second*5/time.Duration(rate), rate == 5)
		})
	}
}

// benchTrailFromAPI is BenchmarkTrailFromAPI at logins spacing apart; every
// page size, or the default alone.
func benchTrailFromAPI(b *testing.B, spacing time.Duration, everyPageSize bool) {
	srv, _ := startFakeWithLogins(b, spacing)
	since := time.Now().Add(-3 * time.Hour)

	b.Run("floor", func(b *testing.B) {
		conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		client := adminpb.NewAdminServiceClient(conn)
		ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+benchPAT)
		benchAPIDelivery(b, srv, func() int {
			n, from := 0, since
			for {
				resp, err := client.ListEvents(ctx, &adminpb.ListEventsRequest{
					Limit: 1000, Asc: true,
					CreationDateFilter: &adminpb.ListEventsRequest_From{From: timestamppb.New(from)},
				})
				if err != nil {
					b.Fatal(err)
				}
				n += len(resp.GetEvents())
				if len(resp.GetEvents()) < 1000 {
					return n
				}
				from = resp.GetEvents()[len(resp.GetEvents())-1].GetCreationDate().AsTime()
			}
		})
	})
	cfg := zitadelapi.NewDefaultConfig()
	cfg.Endpoint = srv.GRPCAddr()
	cfg.TLS.Insecure = true
	cfg.Token = benchPAT
	set := componenttest.NewNopTelemetrySettings()
	own, err := zitadelreceivermetadata.NewTelemetryBuilder(set)
	if err != nil {
		b.Fatal(err)
	}
	src := zitadelapi.NewSource(&cfg, activity.NewDefaultConfig(), model.NewResourceFilter(nil), set, own)
	if err := src.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = src.Shutdown(context.Background()) }()
	pageSizes := []int{NewDefaultConfig().PageSize}
	if everyPageSize {
		pageSizes = []int{1000, 5000, 10000}
	}
	for _, pageSize := range pageSizes {
		b.Run(fmt.Sprintf("trail/page=%d", pageSize), func(b *testing.B) {
			trailCfg := NewDefaultConfig()
			trailCfg.Lookback = time.Since(since)
			trailCfg.PageSize = pageSize
			benchAPIDelivery(b, srv, func() int { return delivered(b, &trailCfg, src.(Source)) })
		})
	}
}

// benchAPIDelivery reports events/s and, what a loaded machine does not
// blur, the calls of each read: ListEvents calls, and all calls (the trail
// also asks which instance the endpoint serves, once a minute).
func benchAPIDelivery(b *testing.B, srv *fakezitadel.Server, deliver func() int) {
	b.ReportAllocs()
	listEvents, total := srv.Calls(adminpb.AdminService_ListEvents_FullMethodName), srv.TotalCalls()
	events := 0
	for b.Loop() {
		n := deliver()
		if n < benchAPILogins*5 {
			b.Fatalf("delivered %d events, want at least %d", n, benchAPILogins*5)
		}
		events += n
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/read")
	b.ReportMetric(float64(srv.Calls(adminpb.AdminService_ListEvents_FullMethodName)-listEvents)/float64(b.N), "ListEvents/read")
	b.ReportMetric(float64(srv.TotalCalls()-total)/float64(b.N), "calls/read")
}
