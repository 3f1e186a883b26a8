package features

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
)

var reqTag = regexp.MustCompile(`@(R-[A-Z]+-[0-9]+)\b`)

// Every certification scenario names the requirements it exercises with
// @R-… tags (the report's requirement matrix reads them), every tag names a
// requirement of the catalogue, and every requirement a publisher can act on
// is exercised by some scenario.
func TestCertificationScenariosNameTheirRequirements(t *testing.T) {
	files, err := fs.Glob(FS, "certification/*.feature")
	if err != nil || len(files) == 0 {
		t.Fatalf("no certification features: %v", err)
	}
	exercised := map[string]bool{}
	for _, f := range files {
		b, err := fs.ReadFile(FS, f)
		if err != nil {
			t.Fatal(err)
		}
		var pending []string // tags of the lines above the next scenario
		for i, line := range strings.Split(string(b), "\n") {
			s := strings.TrimSpace(line)
			switch {
			case strings.HasPrefix(s, "@"):
				pending = append(pending, s)
			case strings.HasPrefix(s, "Scenario"):
				ids := reqTag.FindAllStringSubmatch(strings.Join(pending, " "), -1)
				if len(ids) == 0 {
					t.Errorf("%s:%d: %q names no requirement (@R-…)", f, i+1, s)
				}
				for _, m := range ids {
					if _, ok := finding.RequirementByID(m[1]); !ok {
						t.Errorf("%s:%d: @%s is not in the requirement catalogue", f, i+1, m[1])
					}
					exercised[m[1]] = true
				}
				pending = nil
			case s == "" || strings.HasPrefix(s, "#"):
			default:
				pending = nil
			}
		}
	}
	for _, r := range finding.Requirements() {
		if r.ID == "R-ENV-1" { // the environment is exercised by every scenario
			continue
		}
		if !exercised[r.ID] {
			t.Errorf("requirement %s (%s) is exercised by no certification scenario", r.ID, r.Title)
		}
	}
}
