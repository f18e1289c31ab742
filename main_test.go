package zitadeltelemetry

import (
	"testing"

	"go.uber.org/goleak"
)

// Every receiver and exporter the tests start must leave no goroutine behind
// once shut down.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
