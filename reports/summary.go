package reports

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
)

// SummaryOptions tune the terminal summary.
type SummaryOptions struct {
	// Color adds ANSI colours. Set it with ColorFor(os.Stdout) or
	// ColorMode: never colour a pipe or a CI log that did not ask for it.
	Color bool
	// Reveal shows values (--reveal); otherwise the summary is redacted like
	// the reports.
	Reveal bool
}

// ColorFor reports whether f is a terminal that wants colour: a character
// device, and NO_COLOR unset (https://no-color.org); FORCE_COLOR set (not
// "0") asks for colour anyway, for CI logs that render it.
func ColorFor(f *os.File) bool {
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	if v, ok := os.LookupEnv("FORCE_COLOR"); ok && v != "0" && v != "false" {
		return true
	}
	if f == nil || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// ColorMode decides colour for --color: "always", "never", or "auto" (or
// ""), which is ColorFor(f).
func ColorMode(mode string, f *os.File) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto", "":
		return ColorFor(f), nil
	}
	return false, fmt.Errorf("--color %q: use auto, always or never", mode)
}

// Plural returns "1 scenario", "2 scenarios": n and the noun in the right
// number (nouns with a plain "s").
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// WriteSummaryWith prints the terminal summary with options: the verdict
// (and "partial run: not a certification" when it is one), the counts, then
// one entry per cause to fix, with what it caused, the warnings and the
// allowed deviations, each once per code and campaign.
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
	if v.Partial {
		// A partial run's verdict covers what ran: the headline (what CI
		// logs are searched for) never reads "qualcert PASSED" for it.
		verdict = "PARTIAL RUN " + verdict + " (not a certification)"
		if v.Verdict == Passed {
			verdictColor = "1;33" // not the green of a certification
		}
	}
	fmt.Fprintf(w, "qualcert %s: %s", paint(verdictColor, verdict), v.Profile.Name)
	if v.Profile.PageURL != "" {
		fmt.Fprintf(w, " (%s)", v.Profile.PageURL)
	}
	fmt.Fprintln(w)
	if b := v.PartialBanner(); b != "" {
		fmt.Fprintf(w, "  %s\n", paint("1;33", "⚠ "+b))
	}
	s := v.Summary
	causes := Causes(v)
	allowed := 0 // as listed below: one per cause
	for _, c := range causes {
		if c.Finding.Allowed != "" {
			allowed++
		}
	}
	fmt.Fprintf(w, "  %s: %d passed, %d failed, %d skipped, %d broken; %s",
		Plural(s.Scenarios, "scenario"), s.Passed, s.Failed, s.Skipped, s.Broken, Plural(s.Warnings, "warning"))
	if allowed > 0 {
		fmt.Fprintf(w, "; %s", Plural(allowed, "allowed deviation"))
	}
	fmt.Fprintf(w, " (%s)\n", durationText(v.DurationMs))
	if s.PageLoadsFailed > 0 {
		fmt.Fprintf(w, "  %s failed on findings no scenario asserted\n", Plural(s.PageLoadsFailed, "page load"))
	}

	var must, should, ok []Cause
	for _, c := range causes {
		switch {
		case c.Finding.Allowed != "":
			ok = append(ok, c)
		case c.Finding.Level == finding.Must:
			must = append(must, c)
		case c.Finding.Level == finding.Should:
			should = append(should, c)
		}
	}
	printCauses(w, paint, "What to fix", "✗", "31", must, true)
	printCauses(w, paint, "Warnings", "!", "33", should, false)
	printCauses(w, paint, "Allowed deviations", "○", "2", ok, false)

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
		fmt.Fprintf(w, "\nExpected deviations not exercised by this partial run (%d):\n", len(v.UnexercisedAllowances))
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

// Cause is one problem of a run: a finding (its code and campaign), where
// it was seen, and what it caused: findings that follow from it
// (campaign.blocked) and scenarios it kept from checking what they state.
type Cause struct {
	Finding   finding.Finding // the first occurrence
	Scenarios []string        // names of the scenarios that asserted it
	PageLoads []string        // page loads where no scenario asserted it
	Caused    []finding.Code  // codes that follow from it
	Blocked   []string        // names of the scenarios not reached because of it
}

// Causes groups a report's findings by cause, in finding.Sort order: one
// entry per code and campaign (and allowed or not), a finding caused by
// another listed under it. Every writer lists problems this way: the
// terminal, the HTML's "What to fix" and the test-case messages.
func Causes(r *Report) []Cause {
	var out []*Cause
	index := map[string]*Cause{}
	names := scenarioIndex(r)
	key := func(code finding.Code, campaign string, allowed bool) string {
		return fmt.Sprintf("%s\x00%s\x00%v", code, campaign, allowed)
	}
	add := func(list []string, s string) []string {
		for _, x := range list {
			if x == s {
				return list
			}
		}
		return append(list, s)
	}
	var consequences []finding.Finding
	for _, f := range r.Findings {
		if f.CausedBy != "" {
			consequences = append(consequences, f)
			continue
		}
		k := key(f.Code, f.Campaign, f.Allowed != "")
		c := index[k]
		if c == nil {
			c = &Cause{Finding: f}
			index[k] = c
			out = append(out, c)
		}
		if sc := names[f.Scenario]; sc != nil {
			c.Scenarios = add(c.Scenarios, sc.Name)
		} else if f.PageLoad != "" {
			c.PageLoads = add(c.PageLoads, f.PageLoad)
		}
	}
	for _, f := range consequences {
		var parent *Cause
		for _, camp := range []string{f.Campaign, ""} {
			for _, allowed := range []bool{f.Allowed != "", !(f.Allowed != "")} {
				if parent == nil {
					parent = index[key(f.CausedBy, camp, allowed)]
				}
			}
		}
		if parent == nil { // its cause is not in the report: a cause of its own
			k := key(f.Code, f.Campaign, f.Allowed != "")
			if parent = index[k]; parent == nil {
				parent = &Cause{Finding: f}
				index[k] = parent
				out = append(out, parent)
			}
			if sc := names[f.Scenario]; sc != nil {
				parent.Scenarios = add(parent.Scenarios, sc.Name)
			}
			continue
		}
		parent.Caused = append(parent.Caused, f.Code)
		if sc := names[f.Scenario]; sc != nil {
			parent.Scenarios = add(parent.Scenarios, sc.Name)
		}
	}
	for _, s := range r.Scenarios {
		if s.BlockedBy == "" {
			continue
		}
		for _, c := range out {
			if string(c.Finding.Code) == s.BlockedBy {
				c.Blocked = add(c.Blocked, s.Name)
				break
			}
		}
	}
	res := make([]Cause, 0, len(out))
	for _, c := range out {
		c.Caused = uniqCodes(c.Caused)
		res = append(res, *c)
	}
	return res
}

func uniqCodes(cs []finding.Code) []finding.Code {
	var out []finding.Code
	for _, c := range cs {
		dup := false
		for _, o := range out {
			dup = dup || o == c
		}
		if !dup {
			out = append(out, c)
		}
	}
	return out
}

func printCauses(w io.Writer, paint func(code, s string) string, title, mark, colour string, cs []Cause, withMessage bool) {
	if len(cs) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s (%d):\n", title, len(cs))
	for _, c := range cs {
		f := c.Finding
		fmt.Fprintf(w, "  %s %s", paint(colour, mark), paint("1", string(f.Code)))
		if f.Campaign != "" {
			fmt.Fprintf(w, " [%s]", f.Campaign)
		}
		switch {
		case len(c.Scenarios) == 1:
			fmt.Fprintf(w, " in %q", c.Scenarios[0])
		case len(c.Scenarios) > 1:
			fmt.Fprintf(w, " in %s", Plural(len(c.Scenarios), "scenario"))
		case len(c.PageLoads) > 0:
			fmt.Fprintf(w, " on page load %s (no scenario asserted it)", strings.Join(c.PageLoads, ", "))
		}
		if withMessage {
			fmt.Fprintf(w, "\n      %s", f.Message)
		} else {
			fmt.Fprintf(w, ": %s", f.Message)
		}
		fmt.Fprintln(w)
		if len(c.Caused) > 0 || len(c.Blocked) > 0 {
			var codes, led []string
			for _, code := range c.Caused {
				if !slices.Contains(codes, string(code)) {
					codes = append(codes, string(code))
				}
			}
			if len(codes) > 0 {
				led = append(led, strings.Join(codes, ", "))
			}
			if n := len(c.Blocked); n > 0 {
				led = append(led, fmt.Sprintf("%s not reached", Plural(n, "scenario")))
			}
			fmt.Fprintf(w, "      %s %s\n", paint("2", "led to:"), strings.Join(led, "; "))
		}
		if f.Allowed != "" {
			fmt.Fprintf(w, "      %s %s\n", paint("2", "allowed:"), f.Allowed)
		} else if f.Hint != "" {
			fmt.Fprintf(w, "      %s %s\n", paint("36", "fix:"), f.Hint)
		}
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
