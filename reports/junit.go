package reports

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// junit.xml follows the Jenkins JUnit schema (junit-10.xsd, a superset of
// Ant's): <testsuites> holds one <testsuite> per feature, in first-seen
// order; each has <properties>, its <testcase>s, <system-out> and
// <system-err>. A testcase carries at most one of <failure>, <error> or
// <skipped> (so that Ant's stricter schema, which allows one failure or
// error, holds too), then its <system-out>. Testcase names are unique within
// their classname (the feature): duplicates get " (2)", " (3)"…

// junitSuites is the root; junit-10.xsd gives it no "skipped" attribute, so
// skipped testcases are counted on each testsuite only.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	ID         int             `xml:"id,attr"`
	Package    string          `xml:"package,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	SystemOut *junitOut     `xml:"system-out,omitempty"`
}

type junitOut struct {
	Text string `xml:",innerxml"` // escaped by newXMLText
}

func newOut(s string) *junitOut {
	if s == "" {
		return nil
	}
	return &junitOut{Text: newXMLText(s)}
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Body    string `xml:",innerxml"` // escaped by newXMLText
}

// newXMLText escapes character data by hand so that newlines stay newlines
// (encoding/xml writes them as &#xA;, valid but unreadable in a CI log).
func newXMLText(s string) string {
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		return ""
	}
	return strings.NewReplacer("&#xA;", "\n", "&#x9;", "\t").Replace(b.String())
}

func seconds(ms int64) string { return fmt.Sprintf("%.3f", float64(ms)/1000) }

// writeJUnit writes r as junit.xml.
//
// Screenshots are named in the testcase's <system-out> with the
// [[ATTACHMENT|path]] convention that GitLab and Jenkins' JUnit Attachments
// plugin read; the path is dir/attachment, as dir was given (a relative
// --report-dir stays relative to the working directory, as CI wants).
func writeJUnit(w io.Writer, r *Report, dir string) error {
	byScenario := findingsByScenario(r)
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	stamp := r.StartedAt.UTC().Format("2006-01-02T15:04:05")
	props := []junitProperty{
		{"qualcert.schema", SchemaID},
		{"qualcert.version", r.Tool.Version},
		{"profile.name", r.Profile.Name},
		{"profile.page_url", r.Profile.PageURL},
		{"verdict", r.Verdict},
		{"certification", certificationProperty(r)},
		{"run.duration_ms", strconv.FormatInt(r.DurationMs, 10)},
	}
	if r.Partial {
		props = append(props, junitProperty{"partial", "true"}, junitProperty{"partial.reason", r.PartialBanner()})
	}
	for _, e := range r.StaleAllowances {
		props = append(props, junitProperty{"stale_allowance", e.String() + ": " + e.Reason})
	}
	top := junitSuites{Name: "qualcert " + r.Profile.Name}
	if r.Partial {
		top.Name += " (partial run: not a certification)"
	}
	suiteIdx := map[string]int{}
	used := map[string]map[string]int{}
	var suiteMs []int64
	for i, s := range r.Scenarios {
		feature := s.Feature
		if feature == "" {
			feature = "(no feature)"
		}
		si, ok := suiteIdx[feature]
		if !ok {
			si = len(top.Suites)
			suiteIdx[feature] = si
			top.Suites = append(top.Suites, junitSuite{
				Name: feature, Timestamp: stamp, Hostname: host, ID: si, Package: "qualcert",
				Properties: props,
			})
			suiteMs = append(suiteMs, 0)
			used[feature] = map[string]int{}
		}
		suite := &top.Suites[si]
		name := s.Name
		if name == "" {
			name = "(unnamed scenario)"
		}
		used[feature][name]++
		if n := used[feature][name]; n > 1 {
			name = fmt.Sprintf("%s (%d)", name, n)
			for used[feature][name] > 0 { // "X (2)" may itself be a real name
				name += "'"
			}
			used[feature][name]++
		}
		c := junitCase{Name: name, Classname: feature, Time: seconds(s.DurationMs)}
		fs := byScenario[i]
		switch s.Status {
		case Skipped:
			reason := s.SkipReason
			if reason == "" {
				reason = "skipped"
			}
			c.Skipped = &junitMessage{Message: reason}
			suite.Skipped++
		case Broken:
			c.Error = brokenMessage(s, fs)
			suite.Errors++
		case Failed:
			c.Failure = failureMessage(s, fs)
			suite.Failures++
		}
		out := scenarioOutput(s, fs)
		for _, a := range s.Attachments {
			if p := filepath.FromSlash(a.Path); filepath.IsLocal(p) {
				if st, err := os.Stat(filepath.Join(dir, p)); err == nil && st.Mode().IsRegular() {
					out += "[[ATTACHMENT|" + filepath.ToSlash(filepath.Join(dir, p)) + "]]\n"
				}
			}
		}
		c.SystemOut = newOut(out)
		suite.Cases = append(suite.Cases, c)
		suite.Tests++
		suiteMs[si] += s.DurationMs
	}
	// A page load whose findings no scenario asserted is a testcase of its
	// own, failed on a must-level one: the finding is the page load's, not
	// a scenario's.
	if cases := pageLoadCases(r); len(cases) > 0 {
		const feature = "Page loads"
		suite := junitSuite{Name: feature, Timestamp: stamp, Hostname: host, ID: len(top.Suites), Package: "qualcert", Properties: props}
		for _, c := range cases {
			if c.Failure != nil {
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, c)
			suite.Tests++
		}
		top.Suites = append(top.Suites, suite)
		suiteMs = append(suiteMs, 0)
	}
	// Findings attached to neither a scenario nor a page load (page-wide
	// checks) and stale allowances still fail the run: they get a testcase
	// of their own so that a CI reading only junit.xml sees the failure.
	orphans := orphanFindings(r)
	if len(orphans) > 0 || len(r.StaleAllowances) > 0 {
		const feature = "qualcert run"
		suite := junitSuite{Name: feature, Timestamp: stamp, Hostname: host, ID: len(top.Suites), Package: "qualcert", Properties: props}
		if len(orphans) > 0 {
			c := junitCase{Name: "findings outside any scenario", Classname: feature, Time: "0.000"}
			if finding.HasMust(orphans) {
				c.Failure = findingsFailure(orphans)
				suite.Failures++
			}
			c.SystemOut = newOut(findingsText(orphans))
			suite.Cases = append(suite.Cases, c)
			suite.Tests++
		}
		if len(r.StaleAllowances) > 0 {
			var b strings.Builder
			for _, e := range r.StaleAllowances {
				fmt.Fprintf(&b, "stale: %s\n  reason: %s\n", e, e.Reason)
			}
			b.WriteString("An entry of the expected-deviations file matched no finding: the deviation is fixed or the entry is wrong. Remove or correct it.\n")
			c := junitCase{Name: "expected-deviations file has no stale entry", Classname: feature, Time: "0.000",
				Failure: &junitMessage{Message: fmt.Sprintf("allow.stale: %d entr%s of the expected-deviations file matched nothing (%s) | hint: remove or correct %s", len(r.StaleAllowances), plural(len(r.StaleAllowances), "y", "ies"), r.StaleAllowances[0], plural(len(r.StaleAllowances), "it", "them")), Type: "allow.stale", Body: newXMLText(b.String())}}
			suite.Cases = append(suite.Cases, c)
			suite.Tests++
			suite.Failures++
		}
		top.Suites = append(top.Suites, suite)
		suiteMs = append(suiteMs, 0)
	}
	// the suites' times add up to the whole: each is the sum of its
	// testcases, a shared page load counted once, on the scenario that
	// started it (the run's wall time is the run.duration_ms property)
	var totalMs int64
	for i := range top.Suites {
		s := &top.Suites[i]
		s.Time = seconds(suiteMs[i])
		totalMs += suiteMs[i]
		top.Tests += s.Tests
		top.Failures += s.Failures
		top.Errors += s.Errors
	}
	top.Time = seconds(totalMs)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(top); err != nil {
		return fmt.Errorf("encoding junit.xml: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// certificationProperty says what the run is worth: a certification only
// when complete and passed.
func certificationProperty(r *Report) string {
	switch {
	case r.Partial:
		return "no: " + r.PartialBanner()
	case r.Verdict == Passed:
		return "yes"
	}
	return "no: " + r.Verdict
}

// pageLoadCases are the testcases of the page loads with findings that no
// scenario asserted.
func pageLoadCases(r *Report) []junitCase {
	var out []junitCase
	for _, pl := range r.PageLoads {
		fs := pageLoadFindings(r, pl.ID)
		if len(fs) == 0 {
			continue
		}
		c := junitCase{Name: "page load " + pl.ID, Classname: "Page loads", Time: "0.000"}
		if fails := pageLoadFailures(r, pl.ID); len(fails) > 0 {
			c.Failure = findingsFailure(fails)
		}
		c.SystemOut = newOut(fmt.Sprintf("conditions: %s\nscenarios: %s\nfindings no scenario asserted:\n%s", pl.Conditions, strings.Join(pl.Scenarios, ", "), findingsText(fs)))
		out = append(out, c)
	}
	return out
}

// orphanFindings are the findings tied to neither a known scenario nor a
// known page load.
func orphanFindings(r *Report) []finding.Finding {
	loads := map[string]bool{}
	for _, pl := range r.PageLoads {
		loads[pl.ID] = true
	}
	var out []finding.Finding
	for _, f := range r.Findings {
		if f.Scenario != "" && scenarioKnown(r, f.Scenario) {
			continue
		}
		if f.Scenario == "" && loads[f.PageLoad] {
			continue
		}
		out = append(out, f)
	}
	return out
}

func scenarioKnown(r *Report, key string) bool {
	for _, s := range r.Scenarios {
		if s.ID == key || s.Name == key {
			return true
		}
	}
	return false
}

// failureMessage is the <failure> of a failed scenario: the message and
// type name the first must-level finding (its code); the body lists every
// finding with its hint, then the failed steps.
func failureMessage(s Scenario, fs []finding.Finding) *junitMessage {
	var must []finding.Finding
	for _, f := range fs {
		if f.Level == finding.Must && f.Allowed == "" {
			must = append(must, f)
		}
	}
	if len(must) > 0 {
		m := findingsFailure(must)
		if steps := failedStepsText(s); steps != "" {
			m.Body = newXMLText(findingsText(must) + "\n" + steps)
		}
		return m
	}
	msg, typ := "scenario failed", "step"
	for _, st := range s.Steps {
		if st.Status == Failed {
			msg = "step failed: " + st.Text
			if st.Error != "" {
				msg += ": " + firstLine(st.Error)
			}
			break
		}
	}
	return &junitMessage{Message: msg, Type: typ, Body: newXMLText(failedStepsText(s))}
}

func findingsFailure(must []finding.Finding) *junitMessage {
	finding.Sort(must)
	first := must[0]
	msg := fmt.Sprintf("%s: %s", first.Code, first.Message)
	if first.Campaign != "" {
		msg += " (campaign " + first.Campaign + ")"
	}
	if len(must) > 1 {
		msg += fmt.Sprintf(" (+%d more)", len(must)-1)
	}
	msg += " | hint: " + first.Hint
	return &junitMessage{Message: msg, Type: string(first.Code), Body: newXMLText(findingsText(must))}
}

func brokenMessage(s Scenario, fs []finding.Finding) *junitMessage {
	for _, f := range fs {
		if strings.HasPrefix(string(f.Code), "env.") {
			return &junitMessage{Message: fmt.Sprintf("%s: %s | hint: %s", f.Code, f.Message, f.Hint), Type: string(f.Code), Body: newXMLText(findingsText(fs) + "\n" + failedStepsText(s))}
		}
	}
	msg := "no verdict could be reached"
	for _, st := range s.Steps {
		if st.Error != "" {
			msg += ": " + firstLine(st.Error)
			break
		}
	}
	return &junitMessage{Message: msg, Type: "env", Body: newXMLText(findingsText(fs) + "\n" + failedStepsText(s))}
}

func findingsText(fs []finding.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "[%s] %s (%s)", f.Level, f.Code, f.Requirement)
		if f.Campaign != "" {
			fmt.Fprintf(&b, " campaign %s", f.Campaign)
		}
		if f.CausedBy != "" {
			fmt.Fprintf(&b, " caused by %s", f.CausedBy)
		}
		fmt.Fprintf(&b, ": %s\n", f.Message)
		if f.Allowed != "" {
			fmt.Fprintf(&b, "  allowed: %s\n", f.Allowed)
		}
		if f.Hint != "" {
			fmt.Fprintf(&b, "  hint: %s\n", f.Hint)
		}
	}
	return b.String()
}

func failedStepsText(s Scenario) string {
	var b strings.Builder
	for _, st := range s.Steps {
		if st.Error == "" && st.Status != Failed {
			continue
		}
		fmt.Fprintf(&b, "step %s: %s\n", st.Status, stepLine(st))
		if st.Error != "" {
			fmt.Fprintf(&b, "  %s\n", strings.ReplaceAll(st.Error, "\n", "\n  "))
		}
	}
	return b.String()
}

func stepLine(st Step) string {
	if st.Keyword == "" {
		return st.Text
	}
	return strings.TrimSpace(st.Keyword) + " " + st.Text
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// scenarioOutput is the <system-out> of a testcase: steps, findings
// (including warnings and allowed ones) and the timeline, one line each.
func scenarioOutput(s Scenario, fs []finding.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "status: %s", s.Status)
	if len(s.Tags) > 0 {
		fmt.Fprintf(&b, "  tags: %s", strings.Join(s.Tags, " "))
	}
	b.WriteString("\n")
	for _, st := range s.Steps {
		fmt.Fprintf(&b, "  %-8s %s\n", st.Status, stepLine(st))
	}
	if len(fs) > 0 {
		b.WriteString("findings:\n")
		b.WriteString(findingsText(fs))
	}
	if len(s.Timeline) > 0 {
		b.WriteString("timeline:\n")
		b.WriteString(timelineText(s.Timeline))
	}
	return b.String()
}

// timelineText is one line per event: time, source, event, campaign, data.
func timelineText(evs []timeline.Event) string {
	var b strings.Builder
	for _, e := range evs {
		fmt.Fprintf(&b, "%10.1f ms  %-8s %s", e.TMs, e.Source, e.Event)
		if e.Campaign != "" {
			fmt.Fprintf(&b, " [%s]", e.Campaign)
		}
		if d := dataText(e.Data); d != "" {
			b.WriteString(" " + d)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// dataText renders event data as sorted key=value pairs.
func dataText(d map[string]any) string {
	if len(d) == 0 {
		return ""
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+valueText(d[k]))
	}
	return strings.Join(parts, " ")
}

func valueText(v any) string {
	switch x := v.(type) {
	case string:
		if strings.ContainsAny(x, " \t\n") {
			return fmt.Sprintf("%q", x)
		}
		return x
	case nil:
		return "null"
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', 1, 64)
	case int, int64, bool:
		return fmt.Sprint(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}
