// Package storageclient opens a component's client of a storage extension,
// with errors that name the configuration key that chose the extension.
// Any package may import it.
package storageclient

import (
	"context"
	"fmt"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// Open returns the client called name of the component owner (of kind)
// from the storage extension id, which the configuration key names.
func Open(ctx context.Context, host component.Host, key string, id component.ID, kind component.Kind, owner component.ID, name string) (storage.Client, error) {
	var ext component.Component
	if host != nil {
		ext = host.GetExtensions()[id]
	}
	if ext == nil {
		return nil, fmt.Errorf("%s: extension %q is not configured; add it under extensions and service::extensions", key, id)
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return nil, fmt.Errorf("%s: extension %q is not a storage extension", key, id)
	}
	client, err := se.GetClient(ctx, kind, owner, name)
	if err != nil {
		return nil, fmt.Errorf("%s: extension %q: %w", key, id, err)
	}
	return client, nil
}
