package zitadelapi

import (
	"crypto/rsa"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/scraper/scrapererror"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	systempb "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/system"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/model"
)

const systemUser = "system-user-1"

// startSystemFake serves three instances to a system API user.
func startSystemFake(t *testing.T) (*fakezitadel.Server, *Config) {
	t.Helper()
	return startSystemFakeOf(t, 3)
}

// startSystemFakeOf serves n instances to a system API user.
func startSystemFakeOf(t *testing.T, n int) (*fakezitadel.Server, *Config) {
	t.Helper()
	pemKey, pub, err := fakezitadel.NewSystemUserKey()
	require.NoError(t, err)
	spec := fakezitadel.DefaultSpec()
	spec.Instances = n
	srv := startFake(t, spec, fakezitadel.Options{SystemUsers: map[string]*rsa.PublicKey{systemUser: pub}})
	cfg := testConfig(srv)
	cfg.Token = ""
	cfg.SystemUser = SystemUserConfig{UserID: systemUser, KeyFile: writeFile(t, "system.pem", pemKey)}
	return srv, cfg
}

func TestInstancesByHost(t *testing.T) {
	srv, cfg := startSystemFake(t)
	ds := srv.Dataset()
	// A primary domain and a generated one both route to their instance.
	cfg.Instances.Hosts = []string{ds.Instances[2].PrimaryDomain(), ds.Instances[0].Domains[0].Name}
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)
	all := expectedInstances(ds, derivedSystemID(cfg.Endpoint))
	assert.Equal(t, []model.Instance{all[2], all[0]}, rec.instances)
	var want []model.Count
	for _, c := range ds.ExpectedCounts() {
		if c.InstanceID != ds.Instances[1].ID {
			want = append(want, c)
		}
	}
	assert.Equal(t, sortCounts(want), sortCounts(rec.counts))
	assert.Empty(t, srv.ZeroLimitRequests())
}

func TestInstancesDiscovered(t *testing.T) {
	srv, cfg := startSystemFake(t)
	cfg.Instances.Discover = true
	cfg.PageSize = 2 // two pages of instances
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)
	ds := srv.Dataset()
	assert.Equal(t, expectedInstances(ds, derivedSystemID(cfg.Endpoint)), rec.instances)
	assert.Equal(t, sortCounts(ds.ExpectedCounts()), sortCounts(rec.counts))
	assert.Empty(t, srv.ZeroLimitRequests())
	// ZITADEL's total counts each instance once per domain (six here): the
	// short second page is the last one asked for.
	assert.Equal(t, int64(2), srv.Calls(systempb.SystemService_ListInstances_FullMethodName))
}

// TestOneInstanceWithTwoDomainsIsOnePage: ZITADEL reports a total of two for
// one instance with two domains; its one page is the whole list.
func TestOneInstanceWithTwoDomainsIsOnePage(t *testing.T) {
	srv, cfg := startSystemFakeOf(t, 1)
	require.Len(t, srv.Dataset().Instances[0].Domains, 2)
	cfg.Instances.Discover = true
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.NoError(t, err)
	assert.Len(t, rec.instances, 1)
	assert.Equal(t, int64(1), srv.Calls(systempb.SystemService_ListInstances_FullMethodName))
}

func TestUnknownHostFailsOnlyItsInstance(t *testing.T) {
	srv, cfg := startSystemFake(t)
	cfg.Instances.Hosts = []string{"nowhere.example.com", srv.Dataset().Instances[1].PrimaryDomain()}
	s := startSource(t, cfg, nil)

	rec, err := scrape(t, s)
	require.Error(t, err)
	assert.True(t, scrapererror.IsPartialScrapeError(err))
	assert.Contains(t, err.Error(), "instance at host nowhere.example.com: instance:")
	require.Len(t, rec.instances, 1)
	assert.Equal(t, srv.Dataset().Instances[1].ID, rec.instances[0].ID)
}

func TestUserTokenIsValidOnlyInItsInstance(t *testing.T) {
	spec := fakezitadel.DefaultSpec()
	srv := startFake(t, spec, fakezitadel.Options{})
	cfg := testConfig(srv)
	cfg.Instances.Hosts = []string{srv.Dataset().Instances[1].PrimaryDomain()}
	s := startSource(t, cfg, nil)

	_, err := scrape(t, s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rejected the credentials")
}
