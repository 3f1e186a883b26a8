package reports

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
)

// cucumber.json is the Cucumber JSON format that cucumber-html-reporter,
// the Jenkins Cucumber plugin and most CI dashboards read: an array of
// features, each with its elements (scenarios) and their steps; a step's
// result has a status, a duration in nanoseconds and an error message.
// Screenshots are embeddings (base64) on the step they belong to
// (Attachment.Step, matched on the step text) or on the last step. A
// scenario that failed on findings while all its steps passed gets an
// "after" hook that fails with the findings, so that every consumer shows
// it red.

// CucumberFeature is one feature of cucumber.json.
type CucumberFeature struct {
	URI         string            `json:"uri"`
	ID          string            `json:"id"`
	Keyword     string            `json:"keyword"`
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Line        int               `json:"line"`
	Tags        []CucumberTag     `json:"tags"`
	Elements    []CucumberElement `json:"elements"`
}

// CucumberTag is a tag of cucumber.json.
type CucumberTag struct {
	Name string `json:"name"`
	Line int    `json:"line"`
}

// CucumberElement is a scenario of cucumber.json.
type CucumberElement struct {
	ID          string         `json:"id"`
	Keyword     string         `json:"keyword"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Line        int            `json:"line"`
	Type        string         `json:"type"`
	Tags        []CucumberTag  `json:"tags"`
	Steps       []CucumberStep `json:"steps"`
	After       []CucumberHook `json:"after,omitempty"`
}

// CucumberStep is a step of cucumber.json.
type CucumberStep struct {
	Keyword    string              `json:"keyword"`
	Name       string              `json:"name"`
	Line       int                 `json:"line"`
	Match      CucumberMatch       `json:"match"`
	Result     CucumberResult      `json:"result"`
	Embeddings []CucumberEmbedding `json:"embeddings,omitempty"`
}

// CucumberHook is a before/after hook of cucumber.json.
type CucumberHook struct {
	Match      CucumberMatch       `json:"match"`
	Result     CucumberResult      `json:"result"`
	Embeddings []CucumberEmbedding `json:"embeddings,omitempty"`
}

// CucumberMatch locates the step definition.
type CucumberMatch struct {
	Location string `json:"location"`
}

// CucumberResult is the outcome of a step or hook.
type CucumberResult struct {
	Status       string `json:"status"`
	Duration     int64  `json:"duration"` // nanoseconds
	ErrorMessage string `json:"error_message,omitempty"`
}

// CucumberEmbedding is an attachment, base64-encoded.
type CucumberEmbedding struct {
	MimeType string `json:"mime_type"`
	Data     string `json:"data"`
	Name     string `json:"name,omitempty"`
}

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slug(s string) string {
	s = strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if s == "" {
		return "x"
	}
	return s
}

// cucumberStatus maps a qualcert step status onto Cucumber's.
func cucumberStatus(s string) string {
	switch s {
	case "passed", "failed", "skipped", "undefined", "pending", "ambiguous":
		return s
	case Broken:
		return "failed"
	default:
		return "skipped"
	}
}

func cucumberTags(tags []string, line int) []CucumberTag {
	out := []CucumberTag{}
	for _, t := range tags {
		if !strings.HasPrefix(t, "@") {
			t = "@" + t
		}
		out = append(out, CucumberTag{Name: t, Line: line})
	}
	return out
}

// buildCucumber turns r into cucumber.json's features; dir is where the
// attachments are read from.
func buildCucumber(r *Report, dir string) []CucumberFeature {
	byScenario := findingsByScenario(r)
	features := []CucumberFeature{}
	idx := map[string]int{}
	ids := map[string]int{}
	for i, s := range r.Scenarios {
		fname := s.Feature
		if fname == "" {
			fname = "(no feature)"
		}
		fi, ok := idx[fname]
		if !ok {
			fi = len(features)
			idx[fname] = fi
			uri, _ := scenarioLocation(s)
			if uri == "" {
				uri = "features/" + slug(fname) + ".feature"
			}
			desc := ""
			if r.Partial {
				desc = r.PartialBanner()
			}
			features = append(features, CucumberFeature{URI: uri, ID: slug(fname), Keyword: "Feature", Name: fname, Description: desc, Line: 1, Tags: cucumberTags(s.FeatureTags, 1), Elements: []CucumberElement{}})
		}
		f := &features[fi]
		id := f.ID + ";" + slug(s.Name)
		ids[id]++
		if n := ids[id]; n > 1 {
			id = fmt.Sprintf("%s;%d", id, n)
		}
		_, line := scenarioLocation(s)
		el := CucumberElement{ID: id, Keyword: "Scenario", Name: s.Name, Line: line, Type: "scenario", Tags: cucumberTags(scenarioOwnTags(s), line), Steps: []CucumberStep{}}
		if s.Status == Skipped && s.SkipReason != "" {
			el.Description = "Skipped: " + s.SkipReason + "\n"
		}
		if txt := findingsText(byScenario[i]); txt != "" {
			el.Description += "Findings:\n" + txt
		}
		for j, st := range s.Steps {
			kw := st.Keyword
			if kw == "" {
				kw = "* "
			} else if !strings.HasSuffix(kw, " ") {
				kw += " "
			}
			status := cucumberStatus(st.Status)
			if s.Status == Skipped && status == "passed" {
				status = "skipped"
			}
			el.Steps = append(el.Steps, CucumberStep{
				Keyword: kw, Name: st.Text, Line: lineOf(line, j),
				Match:  CucumberMatch{Location: "qualcert/steps"},
				Result: CucumberResult{Status: status, Duration: st.DurationMs * 1e6, ErrorMessage: st.Error},
			})
		}
		fs := byScenario[i]
		var hook *CucumberHook
		stepFailed := false
		for _, st := range el.Steps {
			if st.Result.Status == "failed" {
				stepFailed = true
			}
		}
		if (s.Status == Failed || s.Status == Broken) && !stepFailed {
			msg := strings.TrimSpace(findingsText(fs))
			if msg == "" {
				msg = "scenario " + s.Status
			}
			hook = &CucumberHook{Match: CucumberMatch{Location: "qualcert/findings"}, Result: CucumberResult{Status: "failed", ErrorMessage: msg}}
		}
		for _, a := range s.Attachments {
			if a.MediaType == HARMediaType {
				continue // the network capture stays a file of the report folder: embedding it in every scenario would bloat the file
			}
			data, err := readAttachment(dir, a)
			if err != nil {
				continue // the HTML report names the missing file
			}
			emb := CucumberEmbedding{MimeType: a.MediaType, Data: base64.StdEncoding.EncodeToString(data), Name: a.Name}
			target := -1
			for j, st := range s.Steps {
				if a.Step != "" && (st.Text == a.Step || st.Keyword+st.Text == a.Step) {
					target = j
				}
			}
			if target < 0 && len(el.Steps) > 0 {
				target = len(el.Steps) - 1
			}
			switch {
			case target >= 0:
				el.Steps[target].Embeddings = append(el.Steps[target].Embeddings, emb)
			default:
				if hook == nil {
					hook = &CucumberHook{Match: CucumberMatch{Location: "qualcert/evidence"}, Result: CucumberResult{Status: "passed"}}
				}
				hook.Embeddings = append(hook.Embeddings, emb)
			}
		}
		if hook != nil {
			el.After = []CucumberHook{*hook}
		}
		f.Elements = append(f.Elements, el)
	}
	if els := pageLoadElements(r); len(els) > 0 {
		features = append(features, CucumberFeature{URI: "qualcert/page-loads", ID: "page-loads", Keyword: "Feature", Name: "Page loads",
			Description: "Findings of a page load that no scenario asserted.", Line: 1, Tags: []CucumberTag{}, Elements: els})
	}
	if el, ok := runElement(r); ok {
		features = append(features, CucumberFeature{URI: "qualcert", ID: "qualcert-run", Keyword: "Feature", Name: "qualcert run",
			Line: 1, Tags: []CucumberTag{}, Elements: []CucumberElement{el}})
	}
	return features
}

// pageLoadElements are the page loads with findings that no scenario
// asserted, one element each, failed on a must-level one.
func pageLoadElements(r *Report) []CucumberElement {
	var out []CucumberElement
	for _, pl := range r.PageLoads {
		fs := pageLoadFindings(r, pl.ID)
		if len(fs) == 0 {
			continue
		}
		st := CucumberStep{Keyword: "* ", Name: "the findings no scenario asserted on this page load", Match: CucumberMatch{Location: "qualcert/page-load"}, Result: CucumberResult{Status: "passed"}}
		if fails := pageLoadFailures(r, pl.ID); len(fails) > 0 {
			st.Result = CucumberResult{Status: "failed", ErrorMessage: strings.TrimSpace(findingsText(fails))}
		}
		out = append(out, CucumberElement{ID: "page-loads;" + slug(pl.ID), Keyword: "Scenario", Name: "page load " + pl.ID, Type: "scenario",
			Description: "Conditions: " + pl.Conditions + "\nFindings:\n" + findingsText(fs), Tags: []CucumberTag{}, Steps: []CucumberStep{st}})
	}
	return out
}

// runElement reports what belongs to the run rather than to a scenario:
// findings with no scenario and stale expected deviations, as one scenario
// with a step each, failing when they fail the run.
func runElement(r *Report) (CucumberElement, bool) {
	orphans := orphanFindings(r)
	if len(orphans) == 0 && len(r.StaleAllowances) == 0 {
		return CucumberElement{}, false
	}
	el := CucumberElement{ID: "qualcert-run;run-level-checks", Keyword: "Scenario", Name: "run-level checks", Type: "scenario", Tags: []CucumberTag{}}
	if len(orphans) > 0 {
		st := CucumberStep{Keyword: "* ", Name: "findings outside any scenario", Match: CucumberMatch{Location: "qualcert/findings"}, Result: CucumberResult{Status: "passed"}}
		if finding.HasMust(orphans) {
			st.Result = CucumberResult{Status: "failed", ErrorMessage: strings.TrimSpace(findingsText(orphans))}
		}
		el.Description = "Findings:\n" + findingsText(orphans)
		el.Steps = append(el.Steps, st)
	}
	if len(r.StaleAllowances) > 0 {
		var b strings.Builder
		for _, e := range r.StaleAllowances {
			fmt.Fprintf(&b, "stale expected deviation: %s (reason: %s)\n", e, e.Reason)
		}
		b.WriteString("hint: the deviation is fixed or the entry is wrong; remove or correct it")
		el.Steps = append(el.Steps, CucumberStep{Keyword: "* ", Name: "the expected-deviations file has no stale entry", Match: CucumberMatch{Location: "qualcert/allow"},
			Result: CucumberResult{Status: "failed", ErrorMessage: b.String()}})
	}
	return el, true
}

var idLocation = regexp.MustCompile(`^(.+\.feature):([0-9]+)$`)

// scenarioLocation is the feature file and line of s: its URI and Line, or
// read from an ID of the form "path/x.feature:12".
func scenarioLocation(s Scenario) (string, int) {
	uri, line := s.URI, s.Line
	if m := idLocation.FindStringSubmatch(s.ID); m != nil {
		if uri == "" {
			uri = m[1]
		}
		if line == 0 {
			line, _ = strconv.Atoi(m[2])
		}
	}
	return uri, line
}

// scenarioOwnTags are the tags a scenario declares, without those it
// inherits from its feature (cucumber.json lists those on the feature).
func scenarioOwnTags(s Scenario) []string {
	if len(s.FeatureTags) == 0 {
		return s.Tags
	}
	inherited := map[string]bool{}
	for _, t := range s.FeatureTags {
		inherited[t] = true
	}
	var out []string
	for _, t := range s.Tags {
		if !inherited[t] {
			out = append(out, t)
		}
	}
	return out
}

func lineOf(scenarioLine, step int) int {
	if scenarioLine <= 0 {
		return 0
	}
	return scenarioLine + 1 + step
}

func writeCucumber(w io.Writer, r *Report, dir string) error {
	b, err := json.MarshalIndent(buildCucumber(r, dir), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding cucumber.json: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}
