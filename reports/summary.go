package reports

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
)

// SummaryOptions tune the terminal summary.
type SummaryOptions struct {
	// Color adds ANSI colours. Set it with ColorFor(os.Stdout): never colour
	// a pipe or a CI log that did not ask for it.
	Color bool
	// Reveal shows values (--reveal); otherwise the summary is redacted like
	// the reports.
	Reveal bool
}

// ColorFor reports whether f is a terminal that wants colour: a character
// device, and NO_COLOR unset (https://no-color.org).
func ColorFor(f *os.File) bool {
	if f == nil || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// WriteSummaryWith prints the terminal summary with options.
func WriteSummaryWith(w io.Writer, r *Report, htmlPath string, opt SummaryOptions) {
	v := r.forOutput(opt.Reveal)
	paint := func(code, s string) string {
		if !opt.Color {
			return s
		}
		return "\x1b[" + code + "m" + s + "\x1b[0m"
	}
	verdictColor := map[string]string{Passed: "1;32", Failed: "1;31", Broken: "1;35"}[v.Verdict]
	verdict := strings.ToUpper(v.Verdict)
	if verdict == "" {
		verdict = "NO VERDICT"
	}
	fmt.Fprintf(w, "qualcert %s: %s", paint(verdictColor, verdict), v.Profile.Name)
	if v.Profile.PageURL != "" {
		fmt.Fprintf(w, " (%s)", v.Profile.PageURL)
	}
	fmt.Fprintln(w)
	s := v.Summary
	allowed := 0
	for _, f := range v.Findings {
		if f.Allowed != "" {
			allowed++
		}
	}
	fmt.Fprintf(w, "  %d scenarios: %d passed, %d failed, %d skipped, %d broken; %d warning%s",
		s.Scenarios, s.Passed, s.Failed, s.Skipped, s.Broken, s.Warnings, plural(s.Warnings, "", "s"))
	if allowed > 0 {
		fmt.Fprintf(w, "; %d allowed deviation%s", allowed, plural(allowed, "", "s"))
	}
	fmt.Fprintf(w, " (%s)\n", durationText(v.DurationMs))

	printFindingGroup(w, paint, "Must-level findings", "✗", "31", levelOf(v.Findings, finding.Must), true)
	printFindingGroup(w, paint, "Warnings", "!", "33", levelOf(v.Findings, finding.Should), false)
	byScenario := findingsByScenario(v)
	var unexplained []string
	for i, sc := range v.Scenarios {
		if (sc.Status == Failed || sc.Status == Broken) && !finding.HasMust(byScenario[i]) {
			line := fmt.Sprintf("  %s %s: %s", paint("31", "✗"), sc.Status, sc.Name)
			for _, st := range sc.Steps {
				if st.Error != "" {
					line += "\n      " + firstLine(st.Error)
					break
				}
			}
			unexplained = append(unexplained, line)
		}
	}
	if len(unexplained) > 0 {
		fmt.Fprintf(w, "\nOther failed scenarios (%d; the findings above may explain them):\n%s\n", len(unexplained), strings.Join(unexplained, "\n"))
	}
	if len(v.UnexercisedAllowances) > 0 {
		fmt.Fprintf(w, "\nExpected deviations not exercised by this run (%d; --tags %s):\n", len(v.UnexercisedAllowances), v.TagFilter)
		for _, e := range v.UnexercisedAllowances {
			fmt.Fprintf(w, "  %s %s: %s\n", paint("2", "○"), e, e.Reason)
		}
	}
	if len(v.StaleAllowances) > 0 {
		fmt.Fprintf(w, "\nStale expected deviations (%d, each fails the run; remove or correct them):\n", len(v.StaleAllowances))
		for _, e := range v.StaleAllowances {
			fmt.Fprintf(w, "  %s %s: %s\n", paint("31", "✗"), e, e.Reason)
		}
	}
	if htmlPath != "" {
		fmt.Fprintf(w, "\nReport: %s\n", htmlPath)
	}
}

func durationText(ms int64) string {
	switch {
	case ms < 1000:
		return fmt.Sprintf("%d ms", ms)
	case ms < 60_000:
		return fmt.Sprintf("%.1f s", float64(ms)/1000)
	default:
		return fmt.Sprintf("%dm%02ds", ms/60_000, ms/1000%60)
	}
}

func levelOf(fs []finding.Finding, l finding.Level) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.Level == l {
			out = append(out, f)
		}
	}
	return out
}

// printFindingGroup prints one block of findings. A finding seen in several
// scenarios (a shared page load, or the same fault under several
// conditions) is printed once per code and campaign, with the scenarios
// counted and its first message: the reader needs the cause and the fix
// once, not once per timing figure. With withMessage false (warnings) each
// entry is one line plus its fix.
func printFindingGroup(w io.Writer, paint func(code, s string) string, title, mark, colour string, fs []finding.Finding, withMessage bool) {
	if len(fs) == 0 {
		return
	}
	type entry struct {
		f         finding.Finding
		scenarios map[string]bool
	}
	var entries []*entry
	index := map[string]*entry{}
	allowed := 0
	for _, f := range fs {
		if f.Allowed != "" {
			allowed++
		}
		key := strings.Join([]string{string(f.Code), f.Campaign, f.Allowed}, "\x00")
		e := index[key]
		if e == nil {
			e = &entry{f: f, scenarios: map[string]bool{}}
			index[key] = e
			entries = append(entries, e)
		}
		if f.Scenario != "" {
			e.scenarios[f.Scenario] = true
		}
	}
	if allowed > 0 {
		fmt.Fprintf(w, "\n%s (%d, %d allowed):\n", title, len(entries), allowed)
	} else {
		fmt.Fprintf(w, "\n%s (%d):\n", title, len(entries))
	}
	for _, e := range entries {
		f := e.f
		m := paint(colour, mark)
		if f.Allowed != "" {
			m = paint("2", "○")
		}
		fmt.Fprintf(w, "  %s %s", m, paint("1", string(f.Code)))
		if f.Campaign != "" {
			fmt.Fprintf(w, " [%s]", f.Campaign)
		}
		switch len(e.scenarios) {
		case 0:
		case 1:
			for sc := range e.scenarios {
				fmt.Fprintf(w, " in %q", sc)
			}
		default:
			fmt.Fprintf(w, " in %d scenarios", len(e.scenarios))
		}
		if withMessage {
			fmt.Fprintf(w, "\n      %s", f.Message)
		} else {
			fmt.Fprintf(w, ": %s", f.Message)
		}
		fmt.Fprintln(w)
		if f.Allowed != "" {
			fmt.Fprintf(w, "      %s %s\n", paint("2", "allowed:"), f.Allowed)
		} else if f.Hint != "" {
			fmt.Fprintf(w, "      %s %s\n", paint("36", "fix:"), f.Hint)
		}
	}
}
