package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/reports"
)

// scenario is the state of one running Gherkin scenario. It travels in the
// scenario's context.Context (see withScenario) and is only touched by the
// goroutine that runs the scenario's steps; the run reads it once godog has
// finished.
type scenario struct {
	meta *scenarioMeta
	run  *suiteRun

	// Given
	profile   *profile.Profile
	cond      conditions
	variant   *demo.Variant // reference suite: the demo variant under test
	reference bool          // a step that does not apply fails instead of skipping

	// When
	obs    *observation
	shared bool // obs was started by another scenario (memoized)
	// inShard is the shard that runs the scenario's page load, when it is
	// not this run's (Config.Shard): the scenario is skipped here.
	inShard int

	// Then
	claimed    []finding.Finding // findings this scenario's steps asserted on
	extra      []timelineNote    // events the steps add to the scenario's timeline
	warnings   []string          // should-level codes claimed (shown on the progress line)
	steps      []reports.Step
	stepStart  time.Time
	hadObs     bool // the page was already open when the current step started
	skipReason string
	failedStep string
	failErr    error        // the first failed step's error (a *checkError names findings)
	blockedBy  finding.Code // the finding that kept the scenario from checking what it states
	broken     bool
	finished   bool
	final      string // the status, decided once when the scenario ends
}

type timelineNote struct {
	tMs      float64
	event    string
	campaign string
	data     map[string]any
}

type scenarioKey struct{}

func withScenario(ctx context.Context, s *scenario) context.Context {
	return context.WithValue(ctx, scenarioKey{}, s)
}

// current returns the scenario of ctx; steps run only inside a scenario, so
// a missing one is a programming error reported as a step failure.
func current(ctx context.Context) (*scenario, error) {
	s, ok := ctx.Value(scenarioKey{}).(*scenario)
	if !ok {
		return nil, errors.New("qualcert steps: no scenario state in the context (steps run through steps.Run, or in a godog suite through steps.Suite.InitializeScenario)")
	}
	return s, nil
}

// skipError skips the rest of a scenario that does not apply to the
// profile; godog reports the scenario as skipped and the reason goes to the
// report's skip_reason.
type skipError struct{ reason string }

func (e *skipError) Error() string { return "skipped: " + e.reason }
func (e *skipError) Unwrap() error { return godog.ErrSkip }

// notApplicable skips the scenario, or fails it in the reference suite,
// where every demo variant is chosen for the flow its scenario states.
func (s *scenario) notApplicable(format string, args ...any) error {
	reason := fmt.Sprintf(format, args...)
	if s.reference {
		return fmt.Errorf("the demo variant does not show this flow: %s", reason)
	}
	return &skipError{reason: reason}
}

// result returns the page load's result, or an error saying which step is
// missing.
func (s *scenario) result() (*harness.Result, error) {
	if s.obs == nil || s.obs.res == nil {
		return nil, errors.New("no page was opened: add \"When the participant opens the page\" before this step")
	}
	return s.obs.res, nil
}

// claim attributes findings to this scenario (once each).
func (s *scenario) claim(fs ...finding.Finding) {
	for _, f := range fs {
		dup := false
		for _, c := range s.claimed {
			if c.Code == f.Code && c.Campaign == f.Campaign && c.Message == f.Message {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		s.claimed = append(s.claimed, f)
		if f.Level == finding.Should {
			s.warnings = append(s.warnings, string(f.Code))
		}
	}
}

// loadFindings returns the page load's findings as this scenario sees
// them: with the allowances that name this scenario applied (and their
// consequences allowed), on a copy.
func (s *scenario) loadFindings() []finding.Finding {
	res, err := s.result()
	if err != nil {
		return nil
	}
	fs := append([]finding.Finding(nil), res.Findings...)
	if s.run == nil || s.meta == nil {
		return fs
	}
	if a := s.run.cfg.Allow; a != nil {
		for i := range fs {
			if fs[i].Allowed == "" {
				fs[i].Allowed = a.Reason(fs[i], s.meta.name, s.meta.id)
			}
		}
		reports.AllowConsequences(fs)
	}
	return fs
}

// findings returns the page load's findings with one of codes.
func (s *scenario) findings(codes ...finding.Code) []finding.Finding {
	var out []finding.Finding
	for _, f := range s.loadFindings() {
		for _, c := range codes {
			if f.Code == c {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// check claims the findings with codes and fails with a checkError naming
// each must-level one and its hint. Should-level findings are warnings: the
// scenario passes and the warning shows in the report (a run fails only on
// a must, CONTRACT §3).
func (s *scenario) check(what string, codes ...finding.Code) error {
	if _, err := s.result(); err != nil {
		return err
	}
	fs := s.findings(codes...)
	s.claim(fs...)
	var musts []finding.Finding
	for _, f := range fs {
		if f.Level == finding.Must && f.Allowed == "" {
			musts = append(musts, f)
		}
	}
	if len(musts) == 0 {
		return nil
	}
	return &checkError{what: what, findings: musts}
}

// blockedError is the error of a step that could not check what it states
// because an earlier finding blocked the flow: it names that finding, and
// skips the scenario ("not reached") when the finding is an allowed
// deviation. In the reference suite it fails, like every flow that does not
// apply.
func (s *scenario) blockedError(what string, cause finding.Finding) error {
	s.claim(cause)
	s.blockedBy = cause.Code
	if cause.Allowed != "" && !s.reference {
		return &skipError{reason: fmt.Sprintf("not reached: %s; blocked by %s, an allowed deviation (%s)", what, cause.Code, cause.Allowed)}
	}
	return &checkError{what: "not reached: " + what + "; blocked by " + string(cause.Code), findings: []finding.Finding{cause}}
}

// checkError is a failed assertion: what was checked and the findings that
// contradict it, each with its code and hint.
type checkError struct {
	what     string
	findings []finding.Finding
}

func (e *checkError) Error() string {
	var b strings.Builder
	b.WriteString(e.what)
	for _, f := range e.findings {
		b.WriteString("\n  " + string(f.Code) + " [" + string(f.Level) + "]")
		if f.Campaign != "" {
			b.WriteString(" (campaign " + f.Campaign + ")")
		}
		if f.CausedBy != "" {
			b.WriteString(" caused by " + string(f.CausedBy))
		}
		b.WriteString(": " + f.Message)
		if f.Hint != "" {
			b.WriteString("\n    hint: " + f.Hint)
		}
	}
	return b.String()
}

// failWith fails with a message and the must-level findings of codes, when
// any (so that even a failure found without a finding names the likely
// cause).
func (s *scenario) failWith(msg string, codes ...finding.Code) error {
	if err := s.check(msg, codes...); err != nil {
		return err
	}
	return errors.New(msg)
}

// note adds an event of the steps' own to the scenario's timeline.
func (s *scenario) note(tMs float64, event, campaign string, data map[string]any) {
	s.extra = append(s.extra, timelineNote{tMs: tMs, event: event, campaign: campaign, data: data})
}

// status is the scenario's status as every report states it: decided once,
// when the scenario ends, from its steps (a step fails on a must-level
// finding it asserted that is not allowed), and never changed afterwards.
func (s *scenario) status() string {
	if s.final != "" {
		return s.final
	}
	switch {
	case s.broken:
		return reports.Broken
	case s.failedStep != "":
		return reports.Failed
	case s.skipReason != "":
		return reports.Skipped
	}
	for _, st := range s.steps {
		if st.Status != reports.Passed {
			return reports.Failed
		}
	}
	return reports.Passed
}
