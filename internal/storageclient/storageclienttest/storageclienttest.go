// Package storageclienttest starts a real file_storage extension, and a
// collector host offering extensions, for tests of what keeps state through a
// storage extension: the activity, the audit trail and the exporter's snapshot.
package storageclienttest

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
)

// Host is a collector host with the given extensions.
type Host map[component.ID]component.Component

// GetExtensions implements component.Host.
func (h Host) GetExtensions() map[component.ID]component.Component { return h }

// FileStorage starts a file_storage extension keeping its files in dir,
// which may outlive the test, and shuts it down when the test ends. It
// returns the extension's id and a host that has it.
func FileStorage(tb testing.TB, dir string) (component.ID, Host) {
	tb.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(tb, err)
	require.NoError(tb, ext.Start(context.Background(), componenttest.NewNopHost()))
	tb.Cleanup(func() { require.NoError(tb, ext.Shutdown(context.Background())) })
	id := component.NewID(f.Type())
	return id, Host{id: ext}
}
