// Package activitytest holds what tests of the activity on either source
// share: a storage extension to restart against, and the reports a scrape
// recorded.
package activitytest

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/activity"
)

// Host is a collector host with the given extensions.
type Host map[component.ID]component.Component

func (h Host) GetExtensions() map[component.ID]component.Component { return h }

// FileStorage starts a file_storage extension in a directory of the test's,
// shut down when the test ends, and returns its id and a host that has it.
func FileStorage(t *testing.T) (component.ID, Host) {
	t.Helper()
	return FileStorageIn(t, t.TempDir())
}

// FileStorageIn is FileStorage in dir, which may outlive the test.
func FileStorageIn(t *testing.T, dir string) (component.ID, Host) {
	t.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	id := component.NewID(f.Type())
	return id, Host{id: ext}
}

// Reports keeps the activity each instance recorded.
type Reports map[string]activity.Report

func (r Reports) RecordActivity(id string, rep activity.Report) { r[id] = rep }

// Logins is the total of a report's login counter.
func Logins(r activity.Report) uint64 {
	var n uint64
	for _, l := range r.Logins {
		n += l.Count
	}
	return n
}
