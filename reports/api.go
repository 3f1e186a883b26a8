package reports

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/qualcert/qualcert/harness/finding"
)

// Finalize sorts the findings, counts the summary and sets the verdict:
// broken if any scenario is broken, failed if a must-level finding is not
// allowed (or an allowance went stale, or a scenario failed with no finding
// to explain it), passed otherwise.
//
// Call it after (*AllowList).Apply. Statuses are the ones the run decided
// (and printed) when each scenario ended: a finding that no scenario
// asserted belongs to its page load (Finding.PageLoad) and fails the run,
// not a scenario. The one reconciliation is for an allow-list applied after
// the run: a scenario that failed only on findings that are now all allowed
// counts as passed.
func (r *Report) Finalize() {
	if r.Schema == "" {
		r.Schema = SchemaID
	}
	if r.Tool.Name == "" {
		r.Tool.Name = "qualcert"
	}
	if r.TagFilter != "" && !r.Partial {
		r.Partial, r.PartialReason = true, "filtered by --tags "+r.TagFilter
	}
	AllowConsequences(r.Findings)
	finding.Sort(r.Findings)
	byScenario := findingsByScenario(r)
	var sum Summary
	unexplainedFailure := false
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if s.Status == Failed {
			fs := byScenario[i]
			if len(fs) > 0 && !finding.HasMust(fs) && hasAllowedMust(fs) {
				s.Status = Passed
			} else if !finding.HasMust(fs) {
				unexplainedFailure = true
			}
		}
		sum.Scenarios++
		switch s.Status {
		case Passed:
			sum.Passed++
		case Failed:
			sum.Failed++
		case Skipped:
			sum.Skipped++
		case Broken:
			sum.Broken++
		}
	}
	// a warning is a problem: the same code on the same campaign seen by
	// several scenarios or page loads is one warning, as the summary lists it
	warned := map[string]bool{}
	for _, f := range r.Findings {
		if k := string(f.Code) + "\x00" + f.Campaign; f.Level == finding.Should && f.Allowed == "" && !warned[k] {
			warned[k] = true
			sum.Warnings++
		}
	}
	for i := range r.PageLoads {
		pl := &r.PageLoads[i]
		if pl.Status == Broken {
			continue
		}
		pl.Status = Passed
		if len(pageLoadFailures(r, pl.ID)) > 0 {
			pl.Status = Failed
			sum.PageLoadsFailed++
		}
	}
	r.Summary = sum
	switch {
	case sum.Broken > 0:
		r.Verdict = Broken
	case finding.HasMust(r.Findings) || len(r.StaleAllowances) > 0 || unexplainedFailure:
		r.Verdict = Failed
	default:
		r.Verdict = Passed
	}
}

// pageLoadFindings returns the findings of page load id that no scenario
// asserted.
func pageLoadFindings(r *Report, id string) []finding.Finding {
	var out []finding.Finding
	for _, f := range r.Findings {
		if f.PageLoad == id && f.Scenario == "" {
			out = append(out, f)
		}
	}
	return out
}

// pageLoadFailures are the findings that fail page load id: must-level,
// not allowed, asserted by no scenario, and not the consequence of a cause
// that a scenario of the same load asserted (campaign.blocked by
// setmetadata.late: the cause fails its scenarios, and the consequence is
// listed under it).
func pageLoadFailures(r *Report, id string) []finding.Finding {
	onLoad := map[string]bool{}
	for _, s := range r.Scenarios {
		if s.PageLoad == id && s.ID != "" {
			onLoad[s.ID] = true
		}
	}
	asserted := map[string]bool{}
	for _, f := range r.Findings {
		if onLoad[f.Scenario] {
			asserted[string(f.Code)+"\x00"+f.Campaign] = true
		}
	}
	var out []finding.Finding
	for _, f := range pageLoadFindings(r, id) {
		if f.Level != finding.Must || f.Allowed != "" {
			continue
		}
		if f.CausedBy != "" && (asserted[string(f.CausedBy)+"\x00"+f.Campaign] || asserted[string(f.CausedBy)+"\x00"]) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// PartialBanner is how every report says that a run is not a
// certification: "" for a complete run.
func (r *Report) PartialBanner() string {
	if !r.Partial {
		return ""
	}
	s := "partial run: not a certification"
	if r.PartialReason != "" {
		s += " (" + r.PartialReason + ")"
	}
	return s
}

func hasAllowedMust(fs []finding.Finding) bool {
	for _, f := range fs {
		if f.Level == finding.Must && f.Allowed != "" {
			return true
		}
	}
	return false
}

// findingsByScenario returns, per scenario index, the findings whose
// Scenario field names it (by id, or by name when the scenario has no id or
// the finding uses the name).
func findingsByScenario(r *Report) map[int][]finding.Finding {
	idx := map[string]int{}
	for i, s := range r.Scenarios {
		if _, dup := idx[s.Name]; !dup {
			idx[s.Name] = i
		}
	}
	for i, s := range r.Scenarios {
		if s.ID != "" {
			idx[s.ID] = i
		}
	}
	out := map[int][]finding.Finding{}
	for _, f := range r.Findings {
		if i, ok := idx[f.Scenario]; ok && f.Scenario != "" {
			out[i] = append(out[i], f)
		}
	}
	return out
}

// WriteOptions tune the writers.
type WriteOptions struct {
	Reveal bool // the run was given --reveal: values are shown
}

// The files WriteAll writes in the report dir.
const (
	JSONFile     = "report.json"
	HTMLFile     = "report.html"
	JUnitFile    = "junit.xml"
	CucumberFile = "cucumber.json"
)

// WriteAll writes report.json, report.html, junit.xml and cucumber.json into
// dir (attachments are already there, at their relative paths) and returns
// the paths written.
//
// Unless opt.Reveal or r.Revealed, every writer works on a redacted copy of
// r (see Redacted): claim values that are not already fingerprints, and
// anything shaped like a JWT or an e-mail address in free text, become
// fingerprints. r itself is not modified.
func WriteAll(dir string, r *Report, opt WriteOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating report dir: %w", err)
	}
	view := r.forOutput(opt.Reveal)
	writers := []struct {
		name  string
		write func(io.Writer) error
	}{
		{JSONFile, func(w io.Writer) error { return writeJSON(w, view) }},
		{HTMLFile, func(w io.Writer) error { return writeHTML(w, view, dir) }},
		{JUnitFile, func(w io.Writer) error { return writeJUnit(w, view, dir) }},
		{CucumberFile, func(w io.Writer) error { return writeCucumber(w, view, dir) }},
	}
	var paths []string
	for _, wr := range writers {
		p := filepath.Join(dir, wr.name)
		if err := writeFileAtomic(p, wr.write); err != nil {
			return paths, fmt.Errorf("writing %s: %w", wr.name, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// writeFileAtomic writes through a temporary file in the same folder and
// renames it, so that a CI never reads half a report.
func writeFileAtomic(p string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// WriteSummary prints the terminal summary: verdict, counts, must-level
// findings with their hints, and the path of the HTML report. Plain text;
// see WriteSummaryWith for colour.
func WriteSummary(w io.Writer, r *Report, htmlPath string) {
	WriteSummaryWith(w, r, htmlPath, SummaryOptions{})
}
