package zitadeldb

// Config is the `database:` block of the zitadel receiver.
type Config struct{}

// NewDefaultConfig returns the defaults of the `database:` block.
func NewDefaultConfig() Config { return Config{} }

// Required reports the keys that must be set when this source is selected.
func (c *Config) Required() error { return nil }
