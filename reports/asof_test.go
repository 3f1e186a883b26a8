package reports

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A run judged as of another instant (run --at, a replay) says so in
// report.json (schema-valid) and in report.html.
func TestJudgedAsOfIsReported(t *testing.T) {
	dir := t.TempDir()
	r := passedReport()
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	r.JudgedAsOf = &at
	r.Finalize()
	if _, err := WriteAll(dir, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateJSON(b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"judged_as_of": "2026-11-24T10:00:00Z"`) {
		t.Fatalf("report.json has no judged_as_of:\n%s", b)
	}
	html, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "judged as of 24 Nov 2026, 10:00:00 UTC") {
		t.Fatal("report.html does not say when the tokens were judged as of")
	}
}
