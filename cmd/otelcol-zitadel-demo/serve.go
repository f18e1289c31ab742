package main

import (
	"crypto/rsa"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
)

// demoSystemUser is the system API user the collector signs its tokens as.
const demoSystemUser = "otelcol-demo"

// listening is the one line a child prints on stdout once it serves.
type listening struct {
	GRPC  string `json:"grpc"`
	HTTP  string `json:"http,omitempty"`
	Admin string `json:"admin,omitempty"`
}

func announce(l listening) error {
	return json.NewEncoder(os.Stdout).Encode(l)
}

func waitForSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	<-ch
}

func demoSpec(instances, orgs int) fakezitadel.Spec {
	spec := fakezitadel.DefaultSpec()
	spec.Instances = instances
	spec.OrgsPerInstance = orgs
	spec.SessionsPerInstance = 40 * orgs
	return spec
}

// serveZitadel serves a generated dataset through the ZITADEL API and writes
// the private key of a system API user that may read every instance.
func serveZitadel(args []string) error {
	fs := flag.NewFlagSet("serve-zitadel", flag.ContinueOnError)
	instances := fs.Int("instances", 3, "instances in the dataset")
	orgs := fs.Int("orgs", 100, "organizations per instance")
	keyOut := fs.String("system-key-out", "", "file to write the system user's private key (PEM) to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	privatePEM, public, err := fakezitadel.NewSystemUserKey()
	if err != nil {
		return err
	}
	if err := os.WriteFile(*keyOut, privatePEM, 0o600); err != nil {
		return err
	}
	srv := fakezitadel.NewServer(fakezitadel.Generate(demoSpec(*instances, *orgs)), fakezitadel.Options{
		SystemUsers: map[string]*rsa.PublicKey{demoSystemUser: public},
	})
	if err := srv.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()
	// The admin listener lets the demo grow the installation between two scrapes.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /grow", func(w http.ResponseWriter, _ *http.Request) {
		growZitadel(srv, time.Now())
		w.WriteHeader(http.StatusNoContent)
	})
	admin, stopAdmin, err := serveAdmin(mux)
	if err != nil {
		return err
	}
	defer stopAdmin()
	if err := announce(listening{GRPC: srv.GRPCAddr(), Admin: admin}); err != nil {
		return err
	}
	waitForSignal()
	return nil
}

// serveAdmin serves mux on a loopback port of its own and returns its URL.
func serveAdmin(mux *http.ServeMux) (string, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = server.Close() }, nil
}

// serveTelemetry serves the reference telemetry endpoint, and on a separate
// admin listener the deduplicated state of every system as JSON.
func serveTelemetry(args []string) error {
	fs := flag.NewFlagSet("serve-telemetry", flag.ContinueOnError)
	if err := fs.Parse(args); err != nil {
		return err
	}
	srv := telemetryserver.New(telemetryserver.Options{})
	if err := srv.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		return err
	}
	defer srv.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /state", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(stateOf(srv))
	})
	admin, stopAdmin, err := serveAdmin(mux)
	if err != nil {
		return err
	}
	defer stopAdmin()
	if err := announce(listening{GRPC: srv.GRPCAddr(), HTTP: srv.HTTPURL(), Admin: admin}); err != nil {
		return err
	}
	waitForSignal()
	return nil
}

// systemState is what one system reported, deduplicated, in the wire's own
// messages: the base information and every row as one counts request.
type systemState struct {
	Base   json.RawMessage `json:"base"`
	Counts json.RawMessage `json:"counts"`
}

func stateOf(srv *telemetryserver.Server) []systemState {
	out := []systemState{}
	for _, id := range srv.Systems() {
		snap, ok := srv.Snapshot(id)
		if !ok {
			continue
		}
		base := &analytics.ReportBaseInformationRequest{SystemId: id, Version: snap.Version, Instances: snap.Instances}
		counts := &analytics.ReportResourceCountsRequest{SystemId: id, ResourceCounts: snap.Rows}
		out = append(out, systemState{Base: mustProtoJSON(base), Counts: mustProtoJSON(counts)})
	}
	return out
}

func mustProtoJSON(m proto.Message) json.RawMessage {
	b, err := protojson.Marshal(m)
	if err != nil {
		panic(fmt.Sprintf("marshal %T: %v", m, err))
	}
	return b
}
