package testkit

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
)

// LoadRaw unmarshals raw over a component's defaults and validates, as the
// collector does with a configuration file.
func LoadRaw(cfg component.Config, raw map[string]any) error {
	if err := confmap.NewFromStringMap(raw).Unmarshal(cfg); err != nil {
		return err
	}
	return confmap.Validate(cfg)
}
