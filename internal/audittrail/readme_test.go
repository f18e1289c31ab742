package audittrail

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The receiver's reference states the audit_log defaults and limits; the
// configuration type holds them. A change to one fails here until the other
// follows.
func TestReferenceStatesTheDefaults(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelreceiver/README.md")
	require.NoError(t, err)
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `audit_log::([a-z_:]+)` \\| `([^`]*)`").FindAllStringSubmatch(string(readme), -1) {
		rows[m[1]] = m[2]
	}
	cfg := NewDefaultConfig()
	duration := func(key string) time.Duration {
		d, err := time.ParseDuration(rows[key])
		require.NoError(t, err, "audit_log::%s default %q", key, rows[key])
		return d
	}
	assert.Equal(t, cfg.Lookback, duration("lookback"))
	assert.Equal(t, cfg.PollInterval, duration("poll_interval"))
	assert.Equal(t, strconv.Itoa(cfg.PageSize), rows["page_size"])
	assert.Contains(t, string(readme), "1 to "+strconv.Itoa(MaxPageSize))
	assert.Contains(t, string(readme), "at least `"+strings.TrimSuffix(minPollInterval.String(), "0m0s")+"`")
}

// The receiver's reference, in its table of what a record holds, names
// every attribute the mapping writes.
func TestREADMENamesEveryAttribute(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelreceiver/README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "## The audit trail")
	require.True(t, ok)
	section, _, _ = strings.Cut(section, "\n## ")
	for _, name := range []string{
		AttrInstanceID, AttrEventType, AttrAggregateType, AttrAggregateID, AttrSequence,
		AttrPosition, AttrOwner, AttrCreator, AttrPayloadPrefix + "<field>", AttrRecordUID,
	} {
		assert.Contains(t, section, "`"+name+"`")
	}
}
