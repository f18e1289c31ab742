package main

import (
	"time"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// growZitadel adds what a busy day brings to every instance of the simulated
// ZITADEL: one new organization per twenty (with users and a project), and
// new users, some of them machines, in the first existing organizations. It
// is deterministic, so the demo can work out the report that should follow.
func growZitadel(srv *fakezitadel.Server, at time.Time) {
	for _, in := range srv.Dataset().Instances {
		srv.Write(in.ID, at, func(w *fakezitadel.Writer) {
			existing := append([]*fakezitadel.Org(nil), w.Instance().Orgs...)
			for range max(1, len(existing)/20) {
				o := w.AddOrg()
				for u := range 8 {
					w.AddUser(o, u%4 == 3, fakezitadel.StateInitial)
				}
				w.AddProject(o, 2)
			}
			for i, o := range existing[:min(len(existing), 10)] {
				for u := range 3 {
					w.AddUser(o, (i+u)%5 == 0, fakezitadel.StateActive)
				}
			}
		})
	}
}

// grownDataset is the dataset the simulated ZITADEL holds after growZitadel.
func grownDataset(spec fakezitadel.Spec) *fakezitadel.Dataset {
	srv := fakezitadel.NewServer(fakezitadel.Generate(spec), fakezitadel.Options{})
	growZitadel(srv, time.Now())
	return srv.Dataset()
}
