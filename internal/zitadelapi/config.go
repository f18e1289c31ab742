package zitadelapi

// Config is the `api:` block of the zitadel receiver.
type Config struct{}

// NewDefaultConfig returns the defaults of the `api:` block.
func NewDefaultConfig() Config { return Config{} }

// Required reports the keys that must be set when this source is selected.
func (c *Config) Required() error { return nil }
