package testkit

import (
	"context"
	"testing"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/extensiontest"
)

// StartFileStorage starts a file_storage extension keeping its files in dir,
// shut down when the test ends.
func StartFileStorage(t testing.TB, dir string) (component.ID, component.Component) {
	t.Helper()
	f := filestorage.NewFactory()
	cfg := f.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = dir
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), ExtensionsHost{}))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return component.NewID(f.Type()), ext
}
