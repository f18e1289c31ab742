package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/otelcol-zitadel/zitadeltelemetry/internal/contracttest"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/fakezitadel"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/servicepingclient"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/telemetryserver"
	"github.com/otelcol-zitadel/zitadeltelemetry/internal/zitadeldb/zitadeldbtest"
)

// secretsTemplate uses every kind of secret the components take at once:
// a personal access token, a service user's key file, a system user's key,
// a database password, a credential header of the exporter, and the
// telemetry receiver's path secret and report id key, with every component
// logging at debug level.
var secretsTemplate = template.Must(template.New("secrets").Parse(`
receivers:
  zitadel/token:
    collection_interval: 1h
    initial_delay: 0s
    system_id: ` + systemID + `
    api:
      endpoint: {{.ZitadelAddr}}
      tls: {insecure: true}
      token: {{.PAT}}
  zitadel/key:
    collection_interval: 1h
    initial_delay: 0s
    system_id: ` + systemID + `
    api:
      endpoint: {{.ZitadelAddr}}
      tls: {insecure: true}
      key_file: {{.ServiceKeyFile}}
      token_url: {{.TokenURL}}
  zitadel/system:
    collection_interval: 1h
    initial_delay: 0s
    system_id: ` + systemID + `
    api:
      endpoint: {{.ZitadelAddr}}
      tls: {insecure: true}
      system_user:
        user_id: ` + systemUser + `
        key_file: {{.SystemKeyFile}}
      instances:
        discover: true
  zitadel/database:
    collection_interval: 1h
    initial_delay: 0s
    source: database
    database:
      endpoint: {{.DBEndpoint}}
      username: {{.DBUser}}
      password: {{.DBPassword}}
      database: {{.DBName}}
      tls: {mode: disable}
  zitadeltelemetry:
    http:
      endpoint: {{.PingAddr}}
      path_secret: {{.PathSecret}}
    report_ids:
      key: {{.ReportIDKey}}
exporters:
  zitadeltelemetry:
    endpoint: {{.TelemetryURL}}/api/ping
    http:
      headers:
        Authorization: "Bearer {{.ExporterHeader}}"
  debug:
    verbosity: detailed
service:
  telemetry:
    logs:
      level: debug
    metrics:
      level: none
  pipelines:
    metrics:
      receivers: [zitadel/token, zitadel/key, zitadel/system, zitadel/database, zitadeltelemetry]
      exporters: [zitadeltelemetry, debug]
`))

type secretValues struct {
	ZitadelAddr, PAT, ServiceKeyFile, TokenURL, SystemKeyFile string
	DBEndpoint, DBUser, DBPassword, DBName                    string
	TelemetryURL, ExporterHeader                              string
	PingAddr, PathSecret, ReportIDKey                         string
}

const dbSystemID = "e2e-database-system"

// jwtPattern matches a compact JWS: a signed assertion or a self-signed
// system user token, whatever its claims.
var jwtPattern = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`)

// TestNoSecretInAnyOutput runs a full scrape and report with every kind of
// secret and then prints the effective configuration: neither the log (debug
// level, the debug exporter at detailed verbosity) nor print-config shows a
// secret, a key, an access token the receiver obtained, or a signed JWT.
func TestNoSecretInAnyOutput(t *testing.T) {
	bin := collectorBinary(t)
	dir := t.TempDir()
	v := secretValues{
		PAT: "pat-" + randomSecret(t), ExporterHeader: "hdr-" + randomSecret(t),
		PingAddr: freeAddr(t), PathSecret: "ps-" + randomSecret(t), ReportIDKey: "rk-" + randomSecret(t) + randomSecret(t),
	}

	serviceKey, registered, err := fakezitadel.NewServiceAccountKey("svc-e2e", "key-e2e", "")
	if err != nil {
		t.Fatal(err)
	}
	v.ServiceKeyFile = writeSecretFile(t, dir, "service.json", serviceKey)
	zitadel, systemKeyFile := startZitadel(t, dir, 3, fakezitadel.Options{
		PATs:        map[string]string{v.PAT: ""},
		ServiceKeys: []fakezitadel.ServiceKey{registered},
	})
	v.SystemKeyFile = systemKeyFile
	systemPEM, err := os.ReadFile(systemKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	ds := zitadel.Dataset()
	v.ZitadelAddr, v.TokenURL = zitadel.GRPCAddr(), zitadel.TokenURL()

	db := zitadeldbtest.New(t)
	db.AddInstance(t, "400000000000000001", time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), "db.zitadel.example")
	db.AddSystemEvent(t, "system.id.generated", `{"id": "`+dbSystemID+`"}`)
	db.SetupRun(t, "v4.13.1")
	role := db.CreateRole(t)
	db.Grant(t, role, zitadeldbtest.ReaderGrants...)
	pc, err := pgx.ParseConfig(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	v.DBEndpoint = pc.Host + ":" + strconv.Itoa(int(pc.Port))
	v.DBUser, v.DBPassword, v.DBName = role.Name, role.Password, db.Name

	telemetry := telemetryserver.New(telemetryserver.Options{})
	if err := telemetry.Start("127.0.0.1:0", ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { telemetry.Close() })
	v.TelemetryURL = telemetry.HTTPURL()

	configPath := filepath.Join(dir, "config.yaml")
	writeConfig(t, configPath, secretsTemplate, v)

	c := startCollector(t, bin, configPath)
	// A report through the path with the secret, and calls with a wrong and
	// without one, so that the receiver's debug lines of taking and refusing
	// calls are in the log.
	waitForListener(t, c, v.PingAddr)
	pingBase, pingRows := contracttest.Report("e2e-secrets-ping-system", 1, 3)
	endpoint := "http://" + v.PingAddr + "/zitadel/ping"
	if err := (&servicepingclient.Client{Endpoint: endpoint + "/" + v.PathSecret, HTTP: newHTTPClient(t)}).Report(
		context.Background(), pingBase, pingRows, 2); err != nil {
		t.Fatalf("a report with the path secret: %v", err)
	}
	for _, wrong := range []string{endpoint, endpoint + "/" + strings.ToUpper(v.PathSecret)} {
		err := (&servicepingclient.Client{Endpoint: wrong, HTTP: newHTTPClient(t)}).Report(context.Background(), pingBase, pingRows, 2)
		if !servicepingclient.Cancels(err) {
			t.Fatalf("a report without the path secret: %v", err)
		}
	}
	want := len(ds.ExpectedReported())
	deadline := time.Now().Add(90 * time.Second)
	for {
		snap, ok := telemetry.Snapshot(systemID)
		_, dbOK := telemetry.Snapshot(dbSystemID)
		if ok && len(snap.Rows) >= want && dbOK && zitadel.TokenExchanges() > 0 {
			break
		}
		if !c.running() || time.Now().After(deadline) {
			t.Fatalf("no complete report from every receiver (rows %d of %d, database report %v, token exchanges %d): %v",
				len(snap.Rows), want, dbOK, zitadel.TokenExchanges(), c.err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := c.terminate(15 * time.Second); err != nil {
		t.Fatalf("collector did not shut down cleanly: %v", err)
	}
	logged := c.out.String()
	if !strings.Contains(logged, "debug") || !strings.Contains(logged, "zitadel.resource.count") {
		t.Fatal("the log holds neither debug lines nor the debug exporter's metrics; the scan would prove nothing")
	}

	printed, err := exec.Command(bin, "print-config", "--config", configPath).CombinedOutput()
	if err != nil {
		t.Fatalf("print-config: %v\n%s", err, printed)
	}
	// token, password, the exporter header, the path secret and the report
	// id key; the empty dsn is redacted too.
	if n := strings.Count(string(printed), "[REDACTED]"); !strings.Contains(string(printed), "zitadel/database") || n < 5 {
		t.Fatalf("print-config printed no configuration with its secrets redacted (%d redacted):\n%s", n, printed)
	}

	secrets := map[string]string{
		"personal access token": v.PAT,
		"exporter header":       v.ExporterHeader,
		"database password":     v.DBPassword,
		"path secret":           v.PathSecret,
		"report id key":         v.ReportIDKey,
	}
	addKeyLines(secrets, "system user key", string(systemPEM))
	var sk struct{ Key string }
	if err := json.Unmarshal(serviceKey, &sk); err != nil {
		t.Fatal(err)
	}
	addKeyLines(secrets, "service user key", sk.Key)
	for i, tok := range zitadel.IssuedTokens() {
		secrets["exchanged access token "+strconv.Itoa(i)] = tok
	}
	for name, out := range map[string]string{"collector log": logged, "print-config": string(printed)} {
		for what, secret := range secrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the %s", name, what)
			}
		}
		if m := jwtPattern.FindString(out); m != "" {
			t.Errorf("%s shows a signed JWT: %.20s...", name, m)
		}
	}
}

// addKeyLines adds each base64 line of a PEM key: a key printed in any
// layout still shows some of its lines whole.
func addKeyLines(secrets map[string]string, name, pemText string) {
	for i, line := range strings.Split(pemText, "\n") {
		if len(line) >= 32 && !strings.HasPrefix(line, "-----") {
			secrets[name+" line "+strconv.Itoa(i)] = line
		}
	}
}

func writeSecretFile(t *testing.T, dir, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func randomSecret(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
