package audittrail

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/configcheck"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/idhash"
)

// Defaults of the `audit_log:` block.
const (
	// DefaultLookback is how far back the first read of an instance starts: a
	// day, so that a first start neither floods the log store with years of
	// history nor misses the events of a collector that was down overnight.
	DefaultLookback = 24 * time.Hour
	// DefaultPageSize is ten of ZITADEL's ListEvents pages: the api source
	// starts each read a minute before its position, and the database
	// source's query costs about the same for a page of 1,000 as of 10,000
	// when it reads every event type, so fewer, larger pages cost ZITADEL
	// less; a page of 10,000 records is about 17 MiB of heap
	// (docs/benchmarks.md).
	DefaultPageSize = 10000
	// MaxPageSize bounds the memory of one page: the records of one page are
	// all the trail holds at a time.
	MaxPageSize = 10000
	// DefaultPollInterval is the pause after an instance's events were read
	// to the end.
	DefaultPollInterval = 10 * time.Second
	// minPollInterval keeps an idle trail from costing ZITADEL a read per
	// instance every few milliseconds.
	minPollInterval = time.Second
)

// Config is the zitadel receiver's `audit_log:` block. The trail runs when
// the receiver sits in a logs pipeline.
type Config struct {
	// Lookback is how far back the first read of an instance starts.
	Lookback time.Duration `mapstructure:"lookback"`
	// Storage is a storage extension keeping each instance's read position,
	// so a restart neither loses nor repeats more than one page.
	Storage *component.ID `mapstructure:"storage"`
	// EventTypes narrows the trail by event type (glob patterns).
	EventTypes Patterns `mapstructure:"event_types"`
	// AggregateTypes narrows the trail by aggregate type (glob patterns).
	AggregateTypes Patterns `mapstructure:"aggregate_types"`
	// Payload names, per event type, the payload fields a record includes;
	// no other payload field is read, emitted, logged or stored.
	Payload map[string][]string `mapstructure:"payload"`
	// IDHashKey, when set, replaces user ids (the creator, the id of a user
	// aggregate, the payload fields userID and userId) with an HMAC of them
	// under this key.
	IDHashKey configopaque.String `mapstructure:"id_hash_key"`
	// PageSize is the number of events read, and handed on, at a time.
	PageSize int `mapstructure:"page_size"`
	// PollInterval is the pause after an instance's events were read to the end.
	PollInterval time.Duration `mapstructure:"poll_interval"`

	_ struct{}
}

// Patterns is an allow list and a deny list of glob patterns (`*`, `?`,
// `[...]` as in path.Match; `*` also matches dots).
type Patterns struct {
	// Include keeps only what matches one of its patterns; empty keeps all.
	Include []string `mapstructure:"include"`
	// Exclude drops what matches one of its patterns, after Include.
	Exclude []string `mapstructure:"exclude"`

	_ struct{}
}

// NewDefaultConfig is the trail with every event and no payload.
func NewDefaultConfig() Config {
	return Config{Lookback: DefaultLookback, PageSize: DefaultPageSize, PollInterval: DefaultPollInterval}
}

// Validate names each wrong key under `audit_log::`.
func (c *Config) Validate() error {
	var errs []error
	if c.Lookback <= 0 {
		errs = append(errs, fmt.Errorf("audit_log::lookback: %s must be positive (a number without a unit is nanoseconds; write 24h)", c.Lookback))
	}
	if c.PageSize < 1 || c.PageSize > MaxPageSize {
		errs = append(errs, fmt.Errorf("audit_log::page_size: %d is out of range; use 1 to %d", c.PageSize, MaxPageSize))
	}
	if c.PollInterval < minPollInterval {
		errs = append(errs, fmt.Errorf("audit_log::poll_interval: %s is below the minimum of %s (a number without a unit is nanoseconds; write 10s)",
			c.PollInterval, minPollInterval))
	}
	errs = append(errs, c.EventTypes.validate("audit_log::event_types", "event type")...)
	errs = append(errs, c.AggregateTypes.validate("audit_log::aggregate_types", "aggregate type")...)
	for eventType, fields := range c.Payload {
		key := "audit_log::payload::" + eventType
		if p := checkName(eventType, false); p != "" {
			errs = append(errs, fmt.Errorf("%s: event type %s", key, p))
		}
		if len(fields) == 0 {
			errs = append(errs, fmt.Errorf("%s: no field named; name the payload fields to include, or remove the entry", key))
		}
		errs = append(errs, configcheck.List(key, "field name", fields, func(v string) string { return checkName(v, false) })...)
	}
	for _, e := range idhash.ValidateKey(c.IDHashKey) {
		errs = append(errs, fmt.Errorf("audit_log::%w", e))
	}
	return errors.Join(errs...)
}

func (p *Patterns) validate(key, what string) []error {
	check := func(v string) string {
		if _, err := path.Match(v, ""); err != nil {
			return "is not a glob pattern: " + err.Error()
		}
		return checkName(v, true)
	}
	return append(configcheck.List(key+"::include", what+" pattern", p.Include, check),
		configcheck.List(key+"::exclude", what+" pattern", p.Exclude, check)...)
}

// checkName refuses what no ZITADEL event type, aggregate type or payload
// key holds: ZITADEL names them with letters, digits, dots, dashes and
// underscores. A pattern may hold glob characters too; a payload entry names
// one event type exactly, so that a field is included only where it was
// meant to be.
func checkName(v string, pattern bool) string {
	for _, r := range v {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		case pattern && strings.ContainsRune("*?[]^", r):
		case strings.ContainsRune("*?[]^", r):
			return fmt.Sprintf("holds %q; name one exactly, without glob patterns", r)
		default:
			return fmt.Sprintf("holds %q; names hold letters, digits, '.', '_' and '-'", r)
		}
	}
	return ""
}
