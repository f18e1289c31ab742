package telemetryclient

import (
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	analytics "github.com/otelcol-zitadel/zitadeltelemetry/internal/gen/zitadel/analytics/v2beta"
)

// The README's error table is what an operator relies on: every status and
// code it names, on every wire, is treated as the row says.
func TestREADMEErrorTableMatchesTheClassifiers(t *testing.T) {
	readme, err := os.ReadFile("../../zitadelexporter/README.md")
	require.NoError(t, err)
	rows := readmeErrorRows(t, string(readme))

	// What the row says the exporter does, by how the row starts.
	want := map[string]outcome{
		"permanent": {permanent: true},
		"starts":    {permanent: true, expired: true},
		"retried":   {},
	}
	for _, row := range rows {
		w := want[row.kind]
		for _, st := range row.statuses {
			got := classifyHTTP(st, http.Header{}, []byte("refused"), &analytics.ReportResourceCountsResponse{})
			assert.Equal(t, w, judged(got), "ZITADEL's wire, HTTP %d: %v", st, got)
		}
		for _, c := range row.codes {
			got := classifyGRPC(status.Error(c, "refused"), true)
			assert.Equal(t, w, judged(got), "gRPC %s: %v", codeName(c), got)
			// The Connect body decides, whatever the HTTP status around it.
			for _, st := range []int{400, 409, 500} {
				body := `{"code":"` + connectCodeName(c) + `"}`
				got := classifyHTTP(st, http.Header{}, []byte(body), &analytics.ReportResourceCountsResponse{})
				assert.Equal(t, w, judged(got), "Connect %s on HTTP %d: %v", body, st, got)
			}
		}
	}
	for _, c := range []codes.Code{codes.Aborted, codes.OutOfRange, codes.DataLoss, codes.AlreadyExists} {
		assert.True(t, rowsName(rows, c), "the README's error table names %s", codeName(c))
	}
}

type readmeErrorRow struct {
	kind     string // permanent, starts (the report over) or retried
	statuses []int
	codes    []codes.Code
}

var (
	threeDigits = regexp.MustCompile(`\b[1-5]\d\d\b`)
	codeTokens  = regexp.MustCompile("`([A-Z_]+)`")
)

// readmeErrorRows reads the rows of the table headed "| the exporter |". A
// status range spelled out in words stands for a sample of the statuses it
// covers that no other row names.
func readmeErrorRows(t *testing.T, readme string) []readmeErrorRow {
	t.Helper()
	_, table, ok := strings.Cut(readme, "| the exporter | on ZITADEL's wire (`http`): HTTP status |")
	require.True(t, ok, "zitadelexporter/README.md has the error table per wire")
	var rows []readmeErrorRow
	for _, line := range strings.Split(table, "\n")[2:] {
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(line, "|")
		require.Len(t, cells, 5, line)
		kind, _, _ := strings.Cut(strings.TrimSpace(cells[1]), " ")
		kind = strings.TrimSuffix(kind, ":")
		if kind == "retried," && strings.Contains(cells[1], "as ZITADEL does") {
			continue // no answer at all: TestTransportFailureIsRetryable
		}
		row := readmeErrorRow{kind: strings.TrimSuffix(kind, ",")}
		for _, n := range threeDigits.FindAllString(cells[2], -1) {
			st, _ := strconv.Atoi(n)
			row.statuses = append(row.statuses, st)
		}
		if strings.Contains(cells[2], "any other 4xx") {
			row.statuses = append(row.statuses, 405, 413, 415, 422)
		}
		if strings.Contains(cells[2], "3xx") {
			row.statuses = append(row.statuses, 301, 302, 303, 307, 308)
		}
		if strings.Contains(cells[2], "5xx") {
			row.statuses = append(row.statuses, 500, 502, 503, 504, 507)
		}
		for _, m := range codeTokens.FindAllStringSubmatch(cells[3], -1) {
			c, ok := connectCodes[strings.ToLower(m[1])]
			require.True(t, ok, "%s is a gRPC code", m[1])
			row.codes = append(row.codes, c)
		}
		require.Contains(t, []string{"permanent", "starts", "retried"}, row.kind, line)
		rows = append(rows, row)
	}
	require.Len(t, rows, 3)
	return rows
}

func rowsName(rows []readmeErrorRow, c codes.Code) bool {
	for _, r := range rows {
		for _, rc := range r.codes {
			if rc == c {
				return true
			}
		}
	}
	return false
}

// judged is what the exporter does with err, without the code.
func judged(err error) outcome {
	return outcome{permanent: consumererror.IsPermanent(err), expired: IsReportExpired(err)}
}
