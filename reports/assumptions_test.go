package reports

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
)

// report.json lists the run's assumptions about the real Qualifio side
// (CONTRACT §6 "assumptions"), schema-valid, and report.html shows them.
func TestAssumptionsAreReported(t *testing.T) {
	dir := t.TempDir()
	r := passedReport()
	r.Assumptions = []Assumption{{Name: "getmetadata.timing", Value: "0s after the campaign iframe's load event",
		Text: "The campaign asks at once.", Verdicts: []finding.Code{finding.SetMetaDataLate, finding.SetMetaDataRace}}}
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
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	list, _ := m["assumptions"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "getmetadata.timing" {
		t.Fatalf("assumptions = %v", m["assumptions"])
	}
	list[0].(map[string]any)["verdicts"] = []any{"not a code"}
	bad, _ := json.Marshal(m)
	if ValidateJSON(bad) == nil {
		t.Fatal("the schema accepts an assumption naming no code")
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "getmetadata.timing") || !strings.Contains(string(html), "setmetadata.late") {
		t.Fatal("report.html does not list the assumptions")
	}
}
