package audittrail

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*Config)
		errs   []string
	}{
		{name: "default", modify: func(*Config) {}},
		{name: "narrowed", modify: func(c *Config) {
			c.EventTypes = Patterns{Include: []string{"user.human.password.check.*", "user.locked"}, Exclude: []string{"*.succeeded"}}
			c.AggregateTypes = Patterns{Exclude: []string{"org.*", "[ab]*"}}
			c.Payload = map[string][]string{"oidc_session.added": {"clientID"}}
			c.IDHashKey = "0123456789abcdef0123456789abcdef"
		}},
		{
			name: "lookback", modify: func(c *Config) { c.Lookback = 0 },
			errs: []string{"audit_log::lookback: 0s must be positive"},
		},
		{
			name: "page size", modify: func(c *Config) { c.PageSize = MaxPageSize + 1 },
			errs: []string{"audit_log::page_size: 10001 is out of range; use 1 to 10000"},
		},
		{
			name: "poll interval without unit", modify: func(c *Config) { c.PollInterval = 10 },
			errs: []string{"audit_log::poll_interval: 10ns is below the minimum of 1s"},
		},
		{
			name: "bad pattern", modify: func(c *Config) { c.EventTypes.Include = []string{"user.[", ""} },
			errs: []string{
				`audit_log::event_types::include[0]: "user.[" is not a glob pattern`,
				"audit_log::event_types::include[1]: empty event type pattern",
			},
		},
		{
			name: "pattern twice", modify: func(c *Config) { c.AggregateTypes.Exclude = []string{"org", "org"} },
			errs: []string{`audit_log::aggregate_types::exclude[1]: "org" is listed twice`},
		},
		{
			name: "space in a type", modify: func(c *Config) { c.EventTypes.Exclude = []string{"user locked"} },
			errs: []string{`audit_log::event_types::exclude[0]: "user locked" holds ' '`},
		},
		{
			name: "payload of a pattern", modify: func(c *Config) { c.Payload = map[string][]string{"user.*": {"userName"}} },
			errs: []string{"audit_log::payload::user.*: event type holds '*'; name one exactly"},
		},
		{
			name: "payload field pattern", modify: func(c *Config) { c.Payload = map[string][]string{"user.human.added": {"*"}} },
			errs: []string{`audit_log::payload::user.human.added[0]: "*" holds '*'; name one exactly`},
		},
		{
			name: "payload without field", modify: func(c *Config) { c.Payload = map[string][]string{"user.human.added": nil} },
			errs: []string{"audit_log::payload::user.human.added: no field named"},
		},
		{
			name: "nested payload field", modify: func(c *Config) { c.Payload = map[string][]string{"oidc_session.added": {"userAgent/ip"}} },
			errs: []string{`audit_log::payload::oidc_session.added[0]: "userAgent/ip" holds '/'`},
		},
		{
			name: "short key", modify: func(c *Config) { c.IDHashKey = "short" },
			errs: []string{"audit_log::id_hash_key: 5 bytes is too short"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := NewDefaultConfig()
			tt.modify(&cfg)
			err := cfg.Validate()
			if len(tt.errs) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, e := range tt.errs {
				assert.Contains(t, err.Error(), e)
			}
			assert.NotContains(t, err.Error(), "short\n", "the key itself is never in a message")
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := NewDefaultConfig()
	assert.Equal(t, 24*time.Hour, cfg.Lookback)
	assert.Equal(t, 10*1000, cfg.PageSize, "ten of ZITADEL's ListEvents pages of 1,000")
	assert.Empty(t, cfg.Payload, "no payload field leaves by default")
	assert.Empty(t, cfg.IDHashKey)
}
