package steps

import (
	"strings"
	"testing"

	"github.com/qualcert/qualcert/reports"
)

// go test integration (Config.TestingT).
//
// Each scenario is a subtest named after it, so that go test -run selects
// scenarios. The subtests are started before the run and pause
// (t.Parallel) until the parent test function returns; the scenarios then
// run, and each subtest reports its scenario's final status: failed with its
// step error, skipped (t.Skip) with its reason, or passed. The parent test
// fails when the run's verdict is not passed, checked after the caller had
// its chance to apply an allow-list and call Finalize.
//
// godog's own TestingT option is not used: it reports a skipped scenario as
// a passed subtest and fails it only on step errors.

// doneCh is closed when the report is filled (the subtests wait on it).
func (run *suiteRun) doneCh() chan struct{} {
	run.mu.Lock()
	defer run.mu.Unlock()
	if run.done == nil {
		run.done = make(chan struct{})
	}
	return run.done
}

// startSubtests starts one paused subtest per scenario and marks the
// scenarios go test -run selected; the others are skipped without running
// a step.
func (run *suiteRun) startSubtests(report *reports.Report) {
	t := run.cfg.TestingT
	done := run.doneCh()
	for _, m := range run.order {
		t.Run(m.name, func(st *testing.T) {
			m.selected = true // before Parallel: t.Run returns after it
			st.Parallel()
			<-done
			run.mu.Lock()
			s := run.states[m.pickleID]
			run.mu.Unlock()
			if s == nil {
				st.Fatalf("the scenario did not run (%s)", m.id)
			}
			switch s.status() {
			case reports.Failed, reports.Broken:
				msg := "scenario " + s.status()
				for _, step := range s.steps {
					if step.Error != "" {
						msg += ": " + step.Text + "\n" + step.Error
						break
					}
				}
				st.Error(msg)
			case reports.Skipped:
				st.Skip(s.skipReason)
			}
		})
	}
	t.Cleanup(func() {
		r := *report
		if r.Verdict == "" { // the caller did not finalize: judge a copy
			r.Scenarios = append([]reports.Scenario(nil), report.Scenarios...)
			r.Findings = append(r.Findings[:0:0], report.Findings...)
			r.Finalize()
		}
		if run.cfg.Profile == nil && run.cfg.Demo != nil {
			// The reference suite asserts that the faulty variants produce
			// their findings: it fails on a failed scenario, not on them.
			if r.Summary.Failed+r.Summary.Broken > 0 {
				t.Errorf("reference suite: %d scenarios failed, %d broken", r.Summary.Failed, r.Summary.Broken)
			}
			return
		}
		if r.Verdict != reports.Passed {
			var codes []string
			for _, f := range r.Findings {
				if f.Level == "must" && f.Allowed == "" {
					codes = append(codes, string(f.Code))
				}
			}
			t.Errorf("qualcert verdict %s (must-level findings: %s)", r.Verdict, strings.Join(codes, ", "))
		}
	})
}
