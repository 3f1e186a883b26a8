package reports

import (
	"bytes"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	_ "image/gif" // screenshots' sizes
	_ "image/jpeg"
	_ "image/png"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
)

// report.html is one self-contained file: CSS, SVG and screenshots (data:
// URIs) are inline, nothing is fetched, and every section reads without
// JavaScript (a few lines of inline script add filtering and open every
// scenario before printing). html/template escapes every value.

//go:embed assets/report.html.tmpl assets/report.css assets/report.js
var assets embed.FS

var htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"lower": strings.ToLower,
	"inc":   func(n int) int { return n + 1 },
	"dur":   durationText,
	"sub":   func(a, b int) int { return a - b },
	"cls":   func(s string) string { return strings.ReplaceAll(s, " ", "-") },
}).ParseFS(assets, "assets/report.html.tmpl"))

type htmlView struct {
	R            *Report
	Verdict      string
	VerdictTitle string
	VerdictLine  string
	Date         string
	JudgedAsOf   string // "24 Nov 2026, 10:00:00 UTC" when the tokens were judged as of another instant
	Duration     string
	Allowed      int
	Must         int
	Campaigns    []matrixColumn
	Matrix       []matrixRow
	Coverage     string // how coverage was decided, for the legend
	Groups       []findingGroup
	ToFix        []causeView    // one entry per cause of failure, for the top of the page
	Partial      string         // "partial run: not a certification (…)", or ""
	Loads        []loadView     // each page load once: its sequence, tokens and screenshots
	Unexplained  []scenarioView // failed or broken scenarios with no must finding
	Scenarios    []scenarioView
	CSS          template.CSS
	ShotCSS      template.CSS // one rule per distinct screenshot
	JS           template.JS
}

type matrixColumn struct{ Key, Label, Short, Title string }

type matrixRow struct {
	Req   finding.Requirement
	Cells []matrixCell
}

type matrixCell struct {
	Status string // passed, failed, warning, allowed, skipped
	Title  string
	Anchor string // link to the requirement's findings
}

type findingGroup struct {
	Req      finding.Requirement
	Anchor   string
	Findings []findingView
	Must     int
}

type findingView struct {
	finding.Finding
	ScenarioName   string         // the scenario Finding.Scenario names (by id)
	Also           []scenarioLink // the same finding in other scenarios (Findings section)
	ScenarioAnchor string
	InScenario     bool // shown inside its scenario: no link back
	GroupAnchor    string
}

type scenarioView struct {
	Scenario
	FirstError string // the first step error, for the summary at the top
	Anchor     string
	Open       bool
	Findings   []findingView
	Allowed    int
	Must       int
	Should     int
	Info       int
	Diagram    *diagram // only for a scenario with no page load in the report
	Tokens     []tokenView
	Shots      []shot
	Missing    []string
	Files      []shot // attachments linked, not shown (the page load's HAR)
	Failed     int    // steps not passed
	Load       string // its page load's id and anchor
	LoadAnchor string
}

type scenarioLink struct{ Name, Anchor, Status string }

// causeView is one entry of "What to fix": a cause, what it led to, and
// where it was seen.
type causeView struct {
	findingView
	Caused    []finding.Code
	Blocked   int
	Scenarios int
	PageLoads []string
}

// loadView is one page load: shown once, linked from its scenarios.
type loadView struct {
	ID, Anchor, Conditions, Status string
	DurationMs                     int64
	Scenarios                      []scenarioLink
	Findings                       []findingView // no scenario asserted them
	Diagram                        *diagram
	Tokens                         []tokenView
	Shots                          []shot
	Missing                        []string
	Files                          []shot // attachments linked, not shown (the page load's HAR)
}

// shot is a screenshot: its pixels are in the page's style sheet once (a
// class per distinct file, as a data: URI), because scenarios that share a
// page load share their screenshots and the report would otherwise carry
// each image many times.
type shot struct {
	Name, Step string
	Class      string
	Href       string // the file beside the report, full size
	W, H       int
}

type tokenView struct {
	TokenView
	Revealed                    bool
	HeaderKV, InnerKV, ClaimsKV []kv
}

type kv struct{ K, V, Note string }

// writeHTML renders r (from forOutput) as report.html; attachments are read
// from dir.
func writeHTML(w io.Writer, r *Report, dir string) error {
	css, err := assets.ReadFile("assets/report.css")
	if err != nil {
		return fmt.Errorf("reading embedded CSS: %w", err)
	}
	js, err := assets.ReadFile("assets/report.js")
	if err != nil {
		return fmt.Errorf("reading embedded script: %w", err)
	}
	v := buildHTMLView(r, dir)
	v.CSS = template.CSS(css)
	v.JS = template.JS(js)
	if err := htmlTemplate.Execute(w, v); err != nil {
		return fmt.Errorf("rendering report.html: %w", err)
	}
	return nil
}

func buildHTMLView(r *Report, dir string) *htmlView {
	v := &htmlView{R: r, Verdict: r.Verdict}
	if v.Verdict == "" {
		v.Verdict = Broken
	}
	for _, c := range Causes(r) { // counted as "What to fix" lists them: by cause
		if c.Finding.Allowed != "" {
			v.Allowed++
		} else if c.Finding.Level == finding.Must {
			v.Must++
		}
	}
	v.Partial = r.PartialBanner()
	switch v.Verdict {
	case Passed:
		v.VerdictTitle = "Certification passed"
		v.VerdictLine = "The integration meets every must-level requirement that was exercised."
		if r.Summary.Warnings > 0 {
			v.VerdictLine += fmt.Sprintf(" %d warning%s to review.", r.Summary.Warnings, plural(r.Summary.Warnings, "", "s"))
		}
	case Failed:
		v.VerdictTitle = "Certification failed"
		var parts []string
		if n := mustCauses(r); n > 0 {
			parts = append(parts, fmt.Sprintf("%d must-level problem%s block%s certification", n, plural(n, "", "s"), plural(n, "s", "")))
		}
		if n := len(r.StaleAllowances); n > 0 {
			parts = append(parts, fmt.Sprintf("%d expected deviation%s went stale", n, plural(n, "", "s")))
		}
		if len(parts) == 0 {
			parts = append(parts, "a scenario failed")
		}
		v.VerdictLine = strings.Join(parts, "; ") + ". Each one below says what to change."
	default:
		v.VerdictTitle = "No verdict: the run broke"
		v.VerdictLine = "The harness could not complete every scenario (browser, page or timeout): fix the environment and run again."
	}
	if r.Partial {
		v.VerdictTitle = "Partial run " + map[string]string{Passed: "passed", Failed: "failed", Broken: "broke"}[v.Verdict] + ": not a certification"
		v.VerdictLine = "Only part of the certification suite ran (" + r.PartialReason + "). " + v.VerdictLine
		v.VerdictLine = strings.Replace(v.VerdictLine, "The integration meets every must-level requirement that was exercised.", "What ran meets every must-level requirement it checked.", 1)
	}
	if !r.StartedAt.IsZero() {
		v.Date = r.StartedAt.UTC().Format("2 Jan 2006, 15:04:05 MST")
	}
	v.Duration = durationText(r.DurationMs)
	if r.JudgedAsOf != nil {
		v.JudgedAsOf = r.JudgedAsOf.UTC().Format("2 Jan 2006, 15:04:05 MST")
	}

	byScenario := findingsByScenario(r)
	anchors := map[string]string{} // finding.Scenario → anchor
	for i, s := range r.Scenarios {
		a := fmt.Sprintf("scenario-%d", i+1)
		if _, ok := anchors[s.Name]; !ok {
			anchors[s.Name] = a
		}
		if s.ID != "" {
			anchors[s.ID] = a
		}
	}
	names := scenarioIndex(r)
	nameOf := func(key string) string {
		if s := names[key]; s != nil {
			return s.Name
		}
		return key
	}
	fv := func(f finding.Finding) findingView {
		return findingView{Finding: f, ScenarioAnchor: anchors[f.Scenario], ScenarioName: nameOf(f.Scenario)}
	}

	// findings grouped by requirement, in the catalogue's reading order
	reqs := finding.Requirements()
	groups := map[string]*findingGroup{}
	var order []string
	// the same finding seen by several scenarios (a shared page load) is one
	// card that names them all
	type at struct {
		req string
		i   int
	}
	same := map[string]at{}
	for _, f := range r.Findings {
		key := strings.Join([]string{string(f.Code), string(f.Level), f.Requirement, f.Campaign, f.Message, f.Hint, f.Allowed}, "\x00")
		if pos, seen := same[key]; seen && f.Scenario != "" {
			if first := &groups[pos.req].Findings[pos.i]; first.Scenario != "" {
				first.Also = append(first.Also, scenarioLink{Name: nameOf(f.Scenario), Anchor: anchors[f.Scenario]})
				continue
			}
		}
		g := groups[f.Requirement]
		if g == nil {
			q, ok := finding.RequirementByID(f.Requirement)
			if !ok {
				q = finding.Requirement{ID: f.Requirement, Title: f.Requirement}
			}
			g = &findingGroup{Req: q, Anchor: "req-" + slug(f.Requirement)}
			groups[f.Requirement] = g
			order = append(order, f.Requirement)
		}
		g.Findings = append(g.Findings, fv(f))
		same[key] = at{f.Requirement, len(g.Findings) - 1}
		if f.Level == finding.Must && f.Allowed == "" {
			g.Must++
		}
	}
	rank := map[string]int{}
	for i, q := range reqs {
		rank[q.ID] = i
	}
	sort.SliceStable(order, func(i, j int) bool {
		ri, iok := rank[order[i]]
		rj, jok := rank[order[j]]
		if iok != jok {
			return iok
		}
		return ri < rj
	})
	for _, id := range order {
		v.Groups = append(v.Groups, *groups[id])
	}

	v.Campaigns, v.Matrix, v.Coverage = buildMatrix(r, reqs, groups)
	if v.Verdict == Passed {
		unreached := 0
		for _, row := range v.Matrix {
			for _, c := range row.Cells {
				if c.Status == NotReached {
					unreached++
					break
				}
			}
		}
		if unreached > 0 {
			v.VerdictLine += fmt.Sprintf(" %d requirement%s not reached by any scenario (see the matrix).", unreached, plural(unreached, " was", "s were"))
		}
	}
	for _, c := range Causes(r) {
		if c.Finding.Level != finding.Must || c.Finding.Allowed != "" {
			continue
		}
		view := fv(c.Finding)
		view.GroupAnchor = "req-" + slug(c.Finding.Requirement)
		v.ToFix = append(v.ToFix, causeView{findingView: view, Caused: c.Caused, Blocked: len(c.Blocked), Scenarios: len(c.Scenarios), PageLoads: c.PageLoads})
	}

	shotClasses := map[string]shot{}
	var shotCSS strings.Builder
	defer func() { v.ShotCSS = template.CSS(shotCSS.String()) }()
	// shots returns the screenshots of atts, each image once in the style
	// sheet however many scenarios or page loads show it
	shots := func(atts []Attachment) (out []shot, missing []string) {
		for _, a := range atts {
			if a.MediaType == HARMediaType {
				continue // linked (files), not embedded
			}
			if !isImage(a.MediaType) {
				missing = append(missing, fmt.Sprintf("%s (%s): not an image, see the report folder", a.Name, a.MediaType))
				continue
			}
			sh, ok := shotClasses[a.Path]
			if !ok {
				b, err := readAttachment(dir, a)
				if err != nil {
					missing = append(missing, err.Error())
					continue
				}
				sh = shot{Class: fmt.Sprintf("shot-%d", len(shotClasses)+1), W: 16, H: 10}
				if cfg, _, err := image.DecodeConfig(bytes.NewReader(b)); err == nil && cfg.Width > 0 && cfg.Height > 0 {
					sh.W, sh.H = cfg.Width, cfg.Height
				}
				shotClasses[a.Path] = sh
				// base64 and a media type from the fixed list of isImage:
				// nothing here can close the url() or the rule
				fmt.Fprintf(&shotCSS, ".%s{background-image:url(data:%s;base64,%s)}\n", sh.Class, strings.ToLower(a.MediaType), base64.StdEncoding.EncodeToString(b))
			}
			sh.Name, sh.Step, sh.Href = a.Name, a.Step, a.Path
			out = append(out, sh)
		}
		return out, missing
	}
	// files returns the attachments linked from the report rather than
	// shown in it: the page load's HAR, in the report folder next to it.
	files := func(atts []Attachment) (out []shot) {
		for _, a := range atts {
			if a.MediaType == HARMediaType {
				out = append(out, shot{Name: a.Name, Href: a.Path})
			}
		}
		return out
	}
	loadAnchor := map[string]string{}
	for i, pl := range r.PageLoads {
		lv := loadView{ID: pl.ID, Anchor: fmt.Sprintf("load-%d", i+1), Conditions: pl.Conditions, Status: pl.Status, DurationMs: pl.DurationMs}
		loadAnchor[pl.ID] = lv.Anchor
		for _, id := range pl.Scenarios {
			for _, s := range r.Scenarios {
				if s.ID == id {
					lv.Scenarios = append(lv.Scenarios, scenarioLink{Name: s.Name, Anchor: anchors[id], Status: s.Status})
					if lv.Tokens == nil {
						for _, t := range s.Tokens {
							lv.Tokens = append(lv.Tokens, tokenView{TokenView: t, Revealed: r.Revealed, HeaderKV: kvs(t.Header), InnerKV: kvs(t.InnerHeader), ClaimsKV: kvs(t.Claims)})
						}
					}
				}
			}
		}
		for _, f := range pageLoadFindings(r, pl.ID) {
			lv.Findings = append(lv.Findings, fv(f))
		}
		// the pill shows the worst of the load's own findings and its scenarios
		for _, sl := range lv.Scenarios {
			if statusRank(sl.Status) > statusRank(lv.Status) {
				lv.Status = sl.Status
			}
		}
		lv.Diagram = buildDiagram(fmt.Sprintf("l%d", i+1), pl.Timeline)
		lv.Shots, lv.Missing = shots(pl.Attachments)
		lv.Files = files(pl.Attachments)
		v.Loads = append(v.Loads, lv)
	}
	for i, s := range r.Scenarios {
		sv := scenarioView{Scenario: s, Anchor: fmt.Sprintf("scenario-%d", i+1), Load: s.PageLoad, LoadAnchor: loadAnchor[s.PageLoad]}
		sv.Open = s.Status == Failed || s.Status == Broken
		for _, f := range byScenario[i] {
			view := fv(f)
			view.InScenario = true
			sv.Findings = append(sv.Findings, view)
			switch {
			case f.Allowed != "":
				sv.Allowed++
			case f.Level == finding.Must:
				sv.Must++
			case f.Level == finding.Should:
				sv.Should++
			default:
				sv.Info++
			}
		}
		for _, st := range s.Steps {
			if st.Status != Passed {
				sv.Failed++
			}
			if st.Error != "" && sv.FirstError == "" {
				sv.FirstError = firstLine(st.Error)
			}
		}
		if sv.LoadAnchor == "" { // no page load in the report: the scenario's own evidence
			sv.Diagram = buildDiagram(fmt.Sprintf("d%d", i+1), s.Timeline)
			for _, t := range s.Tokens {
				sv.Tokens = append(sv.Tokens, tokenView{TokenView: t, Revealed: r.Revealed, HeaderKV: kvs(t.Header), InnerKV: kvs(t.InnerHeader), ClaimsKV: kvs(t.Claims)})
			}
			sv.Shots, sv.Missing = shots(s.Attachments)
			sv.Files = files(s.Attachments)
		}
		v.Scenarios = append(v.Scenarios, sv)
		if (s.Status == Failed || s.Status == Broken) && sv.Must == 0 {
			v.Unexplained = append(v.Unexplained, sv)
		}
	}
	return v
}

var reqTag = regexp.MustCompile(`(?i)^@?(R-[A-Z]+-[0-9]+)$`)

// scenarioCoverage returns the requirement ids a scenario declares with tags
// such as @R-TOKEN-3 (nil: it declares none).
func scenarioCoverage(s Scenario) map[string]bool {
	var out map[string]bool
	for _, t := range s.Tags {
		if m := reqTag.FindStringSubmatch(t); m != nil {
			if out == nil {
				out = map[string]bool{}
			}
			out[strings.ToUpper(m[1])] = true
		}
	}
	return out
}

// scenarioCampaigns returns the campaigns a scenario touched.
func scenarioCampaigns(s Scenario, fs []finding.Finding) map[string]bool {
	out := map[string]bool{}
	for _, e := range s.Timeline {
		if e.Campaign != "" {
			out[e.Campaign] = true
		}
	}
	for _, f := range fs {
		if f.Campaign != "" {
			out[f.Campaign] = true
		}
	}
	for _, t := range s.Tokens {
		if t.Campaign != "" {
			out[t.Campaign] = true
		}
	}
	return out
}

// mustCauses counts the distinct must-level causes that are not allowed.
func mustCauses(r *Report) int {
	n := 0
	for _, c := range Causes(r) {
		if c.Finding.Level == finding.Must && c.Finding.Allowed == "" {
			n++
		}
	}
	return n
}

func statusRank(s string) int {
	switch s {
	case Broken:
		return 3
	case Failed:
		return 2
	case Passed:
		return 1
	}
	return 0
}

// NotReached is the matrix cell of a requirement that no scenario checked.
const NotReached = "not reached"

// buildMatrix is the requirement × campaign matrix (a finding tied to no
// campaign counts for every campaign). A cell is failed when
// a must finding is not allowed, warning for a should finding not allowed,
// allowed when every must/should finding there is allowed, passed when a
// scenario that ran (passed or failed) exercised it with no such finding,
// skipped otherwise. A scenario exercises the requirements its tags name
// (@R-TOKEN-3); one that names none exercises every requirement, for every
// campaign it touched (all of them if it touched none).
func buildMatrix(r *Report, reqs []finding.Requirement, groups map[string]*findingGroup) ([]matrixColumn, []matrixRow, string) {
	byScenario := findingsByScenario(r)
	camps := map[string]bool{}
	for _, f := range r.Findings {
		if f.Campaign != "" {
			camps[f.Campaign] = true
		}
	}
	type ran struct {
		reqs  map[string]bool
		camps map[string]bool
	}
	var runs []ran
	declared := false
	for i, s := range r.Scenarios {
		sc := scenarioCampaigns(s, byScenario[i])
		for c := range sc {
			camps[c] = true
		}
		cov := scenarioCoverage(s)
		if cov != nil {
			declared = true
		}
		// a scenario checked its requirements when it ran to its checks:
		// not skipped, and not blocked before them by another finding
		if (s.Status == Passed || s.Status == Failed) && s.BlockedBy == "" && cov != nil {
			runs = append(runs, ran{cov, sc})
		}
	}
	var cols []matrixColumn
	names := make([]string, 0, len(camps))
	for c := range camps {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		short := "…" + shortCampaign(c)
		if site, _, ok := strings.Cut(c, "/"); ok && len(r.Sites) > 0 {
			short = site + " " + short // a fleet: the site's campaign
		}
		cols = append(cols, matrixColumn{Key: c, Label: c, Short: short, Title: "campaign " + c})
	}
	if len(cols) == 0 {
		cols = append(cols, matrixColumn{Key: "", Label: "page", Short: "page", Title: "no campaign was seen: the page as a whole"})
	}
	// a requirement with findings not in the catalogue still gets a row
	rows := []matrixRow{}
	seen := map[string]bool{}
	all := append([]finding.Requirement(nil), reqs...)
	for _, q := range reqs {
		seen[q.ID] = true
	}
	for id, g := range groups {
		if !seen[id] {
			all = append(all, g.Req)
		}
	}
	for _, q := range all {
		row := matrixRow{Req: q}
		for _, col := range cols {
			cell := matrixCell{Status: NotReached, Title: "not reached: no scenario that ran checked it"}
			var must, should, allowed, info []string
			for _, f := range r.Findings {
				// a finding tied to no campaign (kit.missing) holds for all
				if f.Requirement != q.ID || (f.Campaign != col.Key && f.Campaign != "") {
					continue
				}
				switch {
				case f.Allowed != "" && f.Level != finding.Info:
					allowed = append(allowed, string(f.Code))
				case f.Level == finding.Must:
					must = append(must, string(f.Code))
				case f.Level == finding.Should:
					should = append(should, string(f.Code))
				default:
					info = append(info, string(f.Code))
				}
			}
			switch {
			case len(must) > 0:
				cell = matrixCell{Status: Failed, Title: "failed: " + strings.Join(uniq(must), ", ")}
			case len(should) > 0:
				cell = matrixCell{Status: "warning", Title: "warning: " + strings.Join(uniq(should), ", ")}
			case len(allowed) > 0:
				cell = matrixCell{Status: Allowed, Title: "allowed: " + strings.Join(uniq(allowed), ", ")}
			default:
				for _, rn := range runs {
					reqOK := rn.reqs[q.ID]
					campOK := col.Key == "" || len(rn.camps) == 0 || rn.camps[col.Key]
					if reqOK && campOK {
						cell = matrixCell{Status: Passed, Title: "passed: exercised, no finding"}
						break
					}
				}
				if len(info) > 0 {
					cell.Title += " (info: " + strings.Join(uniq(info), ", ") + ")"
				}
			}
			if groups[q.ID] != nil {
				cell.Anchor = groups[q.ID].Anchor
			}
			row.Cells = append(row.Cells, cell)
		}
		rows = append(rows, row)
	}
	coverage := "No scenario names a requirement with an @R-… tag: no requirement is certified by this run."
	if declared {
		coverage = "A scenario exercises the requirements named by its @R-… tags when it runs to its checks (a scenario without such tags, or blocked by another finding, exercises none)."
	}
	return cols, rows, coverage
}

func uniq(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// kvs flattens a header or claims map for display, sorted by name; numeric
// dates (exp, iat, nbf, auth_time) get a readable UTC time beside them.
func kvs(m map[string]any) []kv {
	m = flatten("", m, map[string]any{})
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]kv, 0, len(keys))
	for _, k := range keys {
		var val string
		switch x := m[k].(type) {
		case string:
			val = x
		default:
			b, err := json.Marshal(x)
			if err != nil {
				val = fmt.Sprint(x)
			} else {
				val = string(b)
			}
		}
		item := kv{K: k, V: val}
		switch k {
		case "exp", "iat", "nbf", "auth_time":
			if n, ok := number(m[k]); ok && n > 0 && n < 1e11 {
				item.Note = time.Unix(int64(n), 0).UTC().Format("2006-01-02 15:04:05 UTC")
			}
		}
		out = append(out, item)
	}
	return out
}

// flatten turns nested objects into dotted names (form.email), so that the
// claims table shows every participant field on its own line.
func flatten(prefix string, m map[string]any, out map[string]any) map[string]any {
	for k, v := range m {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			flatten(name, sub, out)
			continue
		}
		out[name] = v
	}
	return out
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
