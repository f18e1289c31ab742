package zitadeldb

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/scraper/scrapererror"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// TestTablesAreHeldToZITADELsShapes: ZITADEL's tables, written by a broken
// or hostile installation, give no e-mail address, 5,000-byte id, malformed
// domain or negative amount to the metrics; what is left out is named by
// its place, never by its value, in a partial scrape error.
func TestTablesAreHeldToZITADELsShapes(t *testing.T) {
	d := zitadeldbtest.New(t)
	now := time.Now()
	d.AddInstance(t, "jane.doe@example.com x", now, "jane.example.com")
	d.AddInstance(t, "i1", now, "login.example.com", "jane doe.example.com")
	// ZITADEL's schema refuses negative amounts; a broken one need not.
	d.Exec(t, `ALTER TABLE projections.resource_counts DROP CONSTRAINT resource_counts_amount_check`)
	d.Exec(t, `INSERT INTO projections.resource_counts (id, instance_id, table_name, parent_type, parent_id, resource_name, amount) VALUES
		(1, 'i1', 'projections.users14', 'organization', 'o1', 'user', 5),
		(2, 'i1', 'projections.users14', 'organization', repeat('7', 5000), 'user', 3),
		(3, 'jane.doe@example.com x', 'projections.users14', 'instance', 'i2', 'user', 3),
		(4, 'i1', 'projections.projects4', 'organization', 'o1', 'project', -5),
		(5, 'i1', 'projections.users14', 'organization', 'o2', 'user name', 1)`)

	src := startSource(t, dbConfig(d), nil)
	rec := &recording{}
	err := src.Scrape(t.Context(), rec)
	require.Error(t, err)
	assert.True(t, scrapererror.IsPartialScrapeError(err), "%v", err)
	var partial scrapererror.PartialScrapeError
	require.ErrorAs(t, err, &partial)
	assert.Equal(t, 6, partial.Failed, "an instance, a domain and four counts: %v", err)
	assert.NotContains(t, err.Error(), "jane")
	assert.NotContains(t, err.Error(), "7777777777")
	assert.Contains(t, err.Error(), "the amount is negative")

	require.Len(t, rec.instances, 1)
	assert.Equal(t, "i1", rec.instances[0].ID)
	assert.Equal(t, []string{"login.example.com"}, rec.instances[0].Domains)
	assert.Equal(t, map[string]int64{"i1 organization/o1 user projections.users14": 5}, rec.amounts())
	for _, c := range rec.counts {
		assert.NotContains(t, c.ParentID, "777777")
	}
}
