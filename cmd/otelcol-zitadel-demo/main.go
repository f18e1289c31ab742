// Command otelcol-zitadel-demo runs the main job on an embedded default: a
// simulated ZITADEL, the otelcol-zitadel collector scraping it, and a local
// telemetry endpoint receiving the reports. It prints what arrived, as a
// capacity-planning view, then stops everything it started.
//
// The same binary serves the two simulated parts as child processes:
//
//	otelcol-zitadel-demo [flags]            run the demo
//	otelcol-zitadel-demo serve-zitadel      the simulated ZITADEL API
//	otelcol-zitadel-demo serve-telemetry    the reference telemetry endpoint
package main

import (
	"fmt"
	"os"
)

func main() {
	var err error
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "serve-zitadel":
			err = serveZitadel(os.Args[2:])
		case "serve-telemetry":
			err = serveTelemetry(os.Args[2:])
		default:
			err = runDemo(os.Args[1:])
		}
	} else {
		err = runDemo(nil)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "otelcol-zitadel-demo:", err)
		os.Exit(1)
	}
}
