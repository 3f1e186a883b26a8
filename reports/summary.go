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

	var must []finding.Finding
	for _, f := range v.Findings {
		if f.Level == finding.Must {
			must = append(must, f)
		}
	}
	if len(must) > 0 {
		n := 0
		for _, f := range must {
			if f.Allowed != "" {
				n++
			}
		}
		if n > 0 {
			fmt.Fprintf(w, "\nMust-level findings (%d, %d allowed):\n", len(must), n)
		} else {
			fmt.Fprintf(w, "\nMust-level findings (%d):\n", len(must))
		}
		// the same finding in several scenarios (a shared page load) is
		// printed once, with the scenarios counted
		type entry struct {
			f         finding.Finding
			scenarios []string
		}
		var entries []*entry
		index := map[string]*entry{}
		for _, f := range must {
			key := strings.Join([]string{string(f.Code), f.Campaign, f.Message, f.Allowed}, "\x00")
			e := index[key]
			if e == nil {
				e = &entry{f: f}
				index[key] = e
				entries = append(entries, e)
			}
			if f.Scenario != "" {
				e.scenarios = append(e.scenarios, f.Scenario)
			}
		}
		for _, e := range entries {
			f := e.f
			mark := paint("31", "✗")
			if f.Allowed != "" {
				mark = paint("2", "○")
			}
			fmt.Fprintf(w, "  %s %s", mark, paint("1", string(f.Code)))
			if f.Campaign != "" {
				fmt.Fprintf(w, " [%s]", f.Campaign)
			}
			switch len(e.scenarios) {
			case 0:
			case 1:
				fmt.Fprintf(w, " in %q", e.scenarios[0])
			default:
				fmt.Fprintf(w, " in %d scenarios", len(e.scenarios))
			}
			fmt.Fprintf(w, "\n      %s\n", f.Message)
			if f.Allowed != "" {
				fmt.Fprintf(w, "      %s %s\n", paint("2", "allowed:"), f.Allowed)
			} else if f.Hint != "" {
				fmt.Fprintf(w, "      %s %s\n", paint("36", "fix:"), f.Hint)
			}
		}
	}
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
