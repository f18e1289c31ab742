package audittrail

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFilter(t *testing.T) {
	type ev struct{ eventType, aggregateType string }
	tests := []struct {
		name             string
		eventTypes, aggs Patterns
		kept, dropped    []ev
		exactEventTypes  []string
		exactAggregates  []string
	}{
		{
			name: "everything by default",
			kept: []ev{{"user.human.added", "user"}, {"org.added", "org"}, {"oidc_session.added", "oidc_session"}},
		},
		{
			name:       "failed checks and lockouts",
			eventTypes: Patterns{Include: []string{"user.human.password.check.*", "user.human.mfa.*.check.failed", "user.locked"}},
			kept: []ev{
				{"user.human.password.check.failed", "user"},
				{"user.human.password.check.succeeded", "user"},
				{"user.human.mfa.otp.sms.check.failed", "user"},
				{"user.locked", "user"},
			},
			dropped: []ev{{"user.human.added", "user"}, {"user.unlocked", "user"}, {"user.human.mfa.otp.check.succeeded", "user"}},
		},
		{
			name:       "deny after allow",
			eventTypes: Patterns{Include: []string{"user.*"}, Exclude: []string{"*.succeeded"}},
			kept:       []ev{{"user.human.password.check.failed", "user"}},
			dropped:    []ev{{"user.human.password.check.succeeded", "user"}, {"org.added", "org"}},
		},
		{
			name: "aggregates",
			aggs: Patterns{Exclude: []string{"org*", "instance"}},
			kept: []ev{{"user.locked", "user"}},
			// org.* is an event type pattern (every organization event); an
			// aggregate type pattern org* also drops org's events.
			dropped: []ev{{"org.added", "org"}, {"instance.added", "instance"}},
		},
		{
			name:            "exact lists go to the reader",
			eventTypes:      Patterns{Include: []string{"user.locked", "oidc_session.added", "user.unlocked"}, Exclude: []string{"user.unlocked"}},
			aggs:            Patterns{Include: []string{"user", "oidc_session"}},
			kept:            []ev{{"user.locked", "user"}, {"oidc_session.added", "oidc_session"}},
			dropped:         []ev{{"user.unlocked", "user"}, {"user.locked", "org"}},
			exactEventTypes: []string{"user.locked", "oidc_session.added"},
			exactAggregates: []string{"user", "oidc_session"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFilter(&Config{EventTypes: tt.eventTypes, AggregateTypes: tt.aggs})
			for range 2 { // the second pass answers from the memo
				for _, e := range tt.kept {
					assert.True(t, f.Keep(e.eventType, e.aggregateType), "%v", e)
				}
				for _, e := range tt.dropped {
					assert.False(t, f.Keep(e.eventType, e.aggregateType), "%v", e)
				}
			}
			assert.Equal(t, tt.exactEventTypes, f.EventTypes())
			assert.Equal(t, tt.exactAggregates, f.AggregateTypes())
		})
	}
}

func TestFilterMemoIsBounded(t *testing.T) {
	f := NewFilter(&Config{EventTypes: Patterns{Include: []string{"a*"}}})
	for i := range 2 * maxMemo {
		f.Keep("a"+string(rune('0'+i%10))+string(rune(i)), "x")
	}
	assert.LessOrEqual(t, len(f.eventTypes.memo), maxMemo)
}

func TestFilteredEventsMakeNoRecord(t *testing.T) {
	cfg := NewDefaultConfig()
	cfg.EventTypes = Patterns{Include: []string{"user.*"}}
	cfg.AggregateTypes = Patterns{Exclude: []string{"session"}}
	logs := newLogs()
	st := NewMapper(&cfg).Append(logs, testInstance, loginEvents(), testObserved)
	assert.Equal(t, PageStats{Records: 3, Filtered: 3}, st)
	assert.Equal(t, 3, logs.LogRecordCount())
}
