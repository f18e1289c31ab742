package audittrail

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The receiver's reference states the audit_log limits the configuration
// type holds (the root package's TestREADMEsStateTheDefaults holds the
// defaults of its key table). A change to one fails here until the other
// follows.
func TestReferenceStatesTheLimits(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelreceiver/README.md")
	require.NoError(t, err)
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
