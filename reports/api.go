package reports

import (
	"errors"
	"io"
)

// SKELETON: the entry points below are the agreed API; the implementation is
// in progress (issue 5).

// Finalize sorts the findings, counts the summary and sets the verdict:
// broken if any scenario is broken, failed if a must-level finding is not
// allowed (or an allowance went stale), passed otherwise.
func (r *Report) Finalize() {}

// WriteOptions tune the writers.
type WriteOptions struct {
	Reveal bool // the run was given --reveal: values are shown
}

// WriteAll writes report.json, report.html, junit.xml and cucumber.json into
// dir (attachments are already there, at their relative paths) and returns
// the paths written.
func WriteAll(dir string, r *Report, opt WriteOptions) ([]string, error) {
	return nil, errors.New("reports: not implemented yet")
}

// WriteSummary prints the terminal summary: verdict, counts, must-level
// findings with their hints, and the path of the HTML report.
func WriteSummary(w io.Writer, r *Report, htmlPath string) {}

// AllowList is the expected-deviations file (--allow).
type AllowList struct{}

// LoadAllow reads an expected-deviations file.
func LoadAllow(path string) (*AllowList, error) {
	return nil, errors.New("reports: not implemented yet")
}

// Apply marks the findings the list allows (Finding.Allowed = reason) and
// records the entries that matched nothing as stale, on r.
func (a *AllowList) Apply(r *Report) {}
