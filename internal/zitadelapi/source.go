package zitadelapi

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/component"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

type source struct{}

// NewSource returns the `api` source.
func NewSource(cfg *Config, filter model.ResourceFilter, set component.TelemetrySettings) model.Source {
	return &source{}
}

func (s *source) Start(context.Context, component.Host) error { return nil }
func (s *source) Shutdown(context.Context) error               { return nil }
func (s *source) Scrape(context.Context, model.Recorder) error {
	return errors.New("api source: not implemented yet")
}
