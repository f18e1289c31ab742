package audittrail

import (
	"path"
	"strings"
)

// Filter decides which events become records.
type Filter struct {
	eventTypes, aggregateTypes patternSet
}

// NewFilter is the filter of a valid configuration.
func NewFilter(c *Config) *Filter {
	return &Filter{eventTypes: newPatternSet(c.EventTypes), aggregateTypes: newPatternSet(c.AggregateTypes)}
}

// Keep reports whether an event of this type on this aggregate type belongs
// to the trail.
func (f *Filter) Keep(eventType, aggregateType string) bool {
	return f.eventTypes.keep(eventType) && f.aggregateTypes.keep(aggregateType)
}

// EventTypes is the exact list of event types the reader may be asked for,
// or nil when the allow list holds patterns or is empty: then every type is
// read and Keep decides.
func (f *Filter) EventTypes() []string { return f.eventTypes.exact() }

// AggregateTypes is the exact list of aggregate types to ask the reader for,
// or nil, as EventTypes.
func (f *Filter) AggregateTypes() []string { return f.aggregateTypes.exact() }

type patternSet struct {
	include, exclude []string
	// literal: every include entry is a plain name.
	literal bool
	// memo holds each name's verdict: a trail sees a few hundred distinct
	// event types, and matching is then one map lookup per event.
	memo map[string]bool
}

func newPatternSet(p Patterns) patternSet {
	literal := len(p.Include) > 0
	for _, v := range p.Include {
		if isPattern(v) {
			literal = false
		}
	}
	return patternSet{include: p.Include, exclude: p.Exclude, literal: literal, memo: map[string]bool{}}
}

func (s *patternSet) keep(name string) bool {
	if v, ok := s.memo[name]; ok {
		return v
	}
	v := (len(s.include) == 0 || matchAny(s.include, name)) && !matchAny(s.exclude, name)
	if len(s.memo) < maxMemo {
		s.memo[name] = v
	}
	return v
}

// maxMemo bounds the memo against a store of hostile or generated type names.
const maxMemo = 4096

func (s *patternSet) exact() []string {
	if !s.literal {
		return nil
	}
	var out []string
	for _, v := range s.include {
		if !matchAny(s.exclude, v) {
			out = append(out, v)
		}
	}
	return out
}

func isPattern(v string) bool { return strings.ContainsAny(v, `*?[\`) }

func matchAny(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}
