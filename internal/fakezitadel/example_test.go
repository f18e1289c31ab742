package fakezitadel_test

import (
	"fmt"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
)

// A demo serves a generated installation until it is stopped; the receiver
// is pointed at GRPCAddr with tls.insecure and the token.
func Example() {
	spec := fakezitadel.DefaultSpec()
	spec.OrgsPerInstance = 50
	ds := fakezitadel.Generate(spec)

	srv := fakezitadel.NewServer(ds, fakezitadel.Options{PATs: map[string]string{"demo-token": ""}})
	if err := srv.Start("127.0.0.1:0", "127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer srv.Close()

	fmt.Println(len(ds.ExpectedCounts()), "counts expected over", len(ds.Instances), "instances")
	// Output: 1032 counts expected over 2 instances
}
