package steps

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/reports"
)

// consumersDir holds the npm consumers of cucumber.json (package.json,
// count.js) and, once `make deps` ran, their node_modules.
var consumersDir = filepath.Join("..", "reports", "testdata", "consumers")

// requireConsumers skips when the consumers are not installed, unless
// QUALCERT_REQUIRE_CONSUMERS is set (make test sets it: there they must run).
func requireConsumers(t *testing.T) {
	t.Helper()
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node")
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		missing = append(missing, "xmllint (Debian libxml2-utils)")
	}
	for _, m := range []string{"cucumber-html-reporter", "cucumber-junit"} {
		if _, err := os.Stat(filepath.Join(consumersDir, "node_modules", m)); err != nil {
			missing = append(missing, m+" (npm, make deps)")
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("QUALCERT_REQUIRE_CONSUMERS") != "" {
		t.Fatalf("the report consumers are not installed: %s; run make deps", strings.Join(missing, ", "))
	}
	t.Skipf("the report consumers are not installed (%s): run make deps", strings.Join(missing, ", "))
}

// Every consumer counts the same failed scenarios as qualcert: the
// terminal's summary, junit.xml (valid against Jenkins' junit-10.xsd),
// cucumber.json read by cucumber-html-reporter and by cucumber-junit, on a
// passed, a failed (a token 1 s late), an allowed (the same, with
// setmetadata.late allowed), a page-load-failed and a partial run.
func TestConsumersCountTheSame(t *testing.T) {
	requireConsumers(t)
	userinfo := finding.New(finding.UserInfoStatus, "the user-info webservice answered 500").WithCampaign(fakeDiv)
	allowLate, err := reports.ParseAllow([]byte("- code: setmetadata.late\n  reason: the SSO is slow until OPS-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		page    *fakePage
		cfg     Config
		verdict string
		failed  int // failed test cases every consumer must count
		partial bool
	}{
		{"passed", &fakePage{}, Config{}, reports.Passed, 0, false},
		{"failed", &fakePage{late: true}, Config{}, reports.Failed, 6, false},
		{"allowed", &fakePage{late: true}, Config{Allow: allowLate}, reports.Passed, 0, false},
		{"page-load", &fakePage{extra: []finding.Finding{userinfo}}, Config{}, reports.Failed, 1, false},
		{"partial", &fakePage{late: true}, Config{Tags: "@tag,@timing"}, reports.Failed, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := tc.cfg
			cfg.Profile, cfg.ReportDir = fakeProfile(), dir
			r := runFake(t, tc.page, cfg)
			r.TagFilter = cfg.Tags
			cfg.Allow.Apply(r)
			r.Finalize()
			if r.Verdict != tc.verdict || r.Partial != tc.partial {
				t.Fatalf("verdict %s partial %v, want %s %v; findings %v", r.Verdict, r.Partial, tc.verdict, tc.partial, r.Findings)
			}
			checkConsumers(t, dir, r, tc.failed, tc.partial)
		})
	}
}

// A fleet's combined report (a passed site, a failed one, one with a
// failed page load) is counted the same by every consumer: the sites'
// scenarios and page loads are test cases apart.
func TestConsumersCountAFleetTheSame(t *testing.T) {
	requireConsumers(t)
	userinfo := finding.New(finding.UserInfoStatus, "the user-info webservice answered 500").WithCampaign(fakeDiv)
	dir := t.TempDir()
	var sites []reports.SiteResult
	for _, site := range []struct {
		id   string
		page *fakePage
	}{{"site-a", &fakePage{}}, {"site-b", &fakePage{late: true}}, {"site-c", &fakePage{extra: []finding.Finding{userinfo}}}} {
		r := runFake(t, site.page, Config{Profile: fakeProfile(), ReportDir: filepath.Join(dir, reports.SitesDir, site.id)})
		r.Finalize()
		sites = append(sites, reports.SiteResult{ID: site.id, Profile: site.id + ".yaml", Report: r})
	}
	r := reports.Combine(&reports.FleetRef{ID: "test", Sites: len(sites)}, sites, nil)
	if r.Verdict != reports.Failed || len(r.Sites) != 3 || r.Sites[0].Verdict != reports.Passed {
		t.Fatalf("fleet verdict %s, sites %+v", r.Verdict, r.Sites)
	}
	checkConsumers(t, dir, r, 7, false)
}

// checkConsumers writes r into dir and checks that qualcert, junit.xml and
// the npm consumers of cucumber.json count failed test cases alike.
func checkConsumers(t *testing.T, dir string, r *reports.Report, failed int, partial bool) {
	t.Helper()
	if _, err := reports.WriteAll(dir, r, reports.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// qualcert's own count, as the terminal prints it
	qualcert := r.Summary.Failed + r.Summary.Broken + r.Summary.PageLoadsFailed
	if qualcert != failed {
		t.Errorf("qualcert counts %d failed (summary %+v), want %d", qualcert, r.Summary, failed)
	}

	// the terminal's summary and report.html's count tiles, as a reader sees them
	var term bytes.Buffer
	reports.WriteSummary(&term, r, "report.html")
	if got := countTerminal(t, term.String()); got != failed {
		t.Errorf("the terminal counts %d failed, want %d:\n%s", got, failed, term.String())
	}
	if partial && (strings.Contains(term.String(), "qualcert PASSED") || strings.Contains(term.String(), "qualcert FAILED") ||
		!strings.Contains(term.String(), "not a certification")) {
		t.Errorf("the terminal's headline of a partial run reads as a certification:\n%s", term.String())
	}
	if got := countHTML(t, filepath.Join(dir, reports.HTMLFile)); got != failed {
		t.Errorf("report.html's tiles count %d failed, want %d", got, failed)
	}

	xsd := filepath.Join("..", "reports", "testdata", "junit-10.xsd")
	if out, err := exec.Command("xmllint", "--noout", "--schema", xsd, filepath.Join(dir, reports.JUnitFile)).CombinedOutput(); err != nil {
		t.Errorf("junit.xml is not valid against junit-10.xsd: %v\n%s", err, out)
	}
	ju := readJUnit(t, filepath.Join(dir, reports.JUnitFile))

	out, err := exec.Command("node", filepath.Join(consumersDir, "count.js"), filepath.Join(dir, reports.CucumberFile), dir).Output()
	if err != nil {
		t.Fatalf("node count.js: %v", err)
	}
	var npm struct {
		CucumberHTMLReporter struct{ Failed, Passed, Skipped int }    `json:"cucumberHtmlReporter"`
		CucumberJunit        struct{ Scenarios, Failed, Skipped int } `json:"cucumberJunit"`
	}
	if err := json.Unmarshal(out, &npm); err != nil {
		t.Fatalf("count.js printed %q: %v", out, err)
	}
	t.Logf("failed: qualcert %d (terminal, report.json, report.html), junit.xml %d, cucumber-html-reporter %d, cucumber-junit %d (summary %+v)",
		qualcert, ju.failed, npm.CucumberHTMLReporter.Failed, npm.CucumberJunit.Failed, r.Summary)
	if ju.failed != qualcert || npm.CucumberHTMLReporter.Failed != qualcert || npm.CucumberJunit.Failed != qualcert {
		t.Errorf("consumers disagree: qualcert %d, junit.xml %d, cucumber-html-reporter %d, cucumber-junit %d",
			qualcert, ju.failed, npm.CucumberHTMLReporter.Failed, npm.CucumberJunit.Failed)
	}
	if npm.CucumberHTMLReporter.Skipped != r.Summary.Skipped || npm.CucumberJunit.Skipped != r.Summary.Skipped || ju.skipped != r.Summary.Skipped {
		t.Errorf("skipped: qualcert %d, junit.xml %d, cucumber-html-reporter %d, cucumber-junit %d",
			r.Summary.Skipped, ju.skipped, npm.CucumberHTMLReporter.Skipped, npm.CucumberJunit.Skipped)
	}
	if ju.partial != partial {
		t.Errorf("junit.xml partial property %v, want %v", ju.partial, partial)
	}
	if ju.sumMs != ju.totalMs {
		t.Errorf("junit.xml: the testsuites' times add up to %d ms, the total says %d ms", ju.sumMs, ju.totalMs)
	}
	var cuke []reports.CucumberFeature
	b, _ := os.ReadFile(filepath.Join(dir, reports.CucumberFile))
	if err := json.Unmarshal(b, &cuke); err != nil {
		t.Fatal(err)
	}
	if len(cuke) == 0 || len(cuke[0].Tags) == 0 || cuke[0].Tags[0].Name != "@certification" {
		t.Errorf("the first feature's tags in cucumber.json: %+v", cuke[0].Tags)
	}
	if partial != strings.Contains(cuke[0].Description, "partial run: not a certification") {
		t.Errorf("cucumber.json feature description %q (partial %v)", cuke[0].Description, partial)
	}
}

type junitCounts struct {
	failed, skipped int
	partial         bool
	sumMs, totalMs  int64
}

func readJUnit(t *testing.T, path string) junitCounts {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Time   string `xml:"time,attr"`
		Suites []struct {
			Time  string `xml:"time,attr"`
			Props []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Cases []struct {
				Failure *struct{} `xml:"failure"`
				Error   *struct{} `xml:"error"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	ms := func(s string) int64 {
		f, _ := strconv.ParseFloat(s, 64)
		return int64(f*1000 + 0.5)
	}
	var c junitCounts
	c.totalMs = ms(doc.Time)
	for _, s := range doc.Suites {
		c.sumMs += ms(s.Time)
		for _, p := range s.Props {
			if p.Name == "partial" && p.Value == "true" {
				c.partial = true
			}
		}
		for _, tc := range s.Cases {
			switch {
			case tc.Failure != nil || tc.Error != nil:
				c.failed++
			case tc.Skipped != nil:
				c.skipped++
			}
		}
	}
	return c
}

// countTerminal reads the failed test cases off the terminal summary: its
// failed and broken scenarios and its page loads failed.
func countTerminal(t *testing.T, text string) int {
	t.Helper()
	m := regexp.MustCompile(`scenarios?: \d+ passed, (\d+) failed, \d+ skipped, (\d+) broken`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no count line in the terminal summary:\n%s", text)
	}
	n := atoi(m[1]) + atoi(m[2])
	if pl := regexp.MustCompile(`(\d+) page loads? failed`).FindStringSubmatch(text); pl != nil {
		n += atoi(pl[1])
	}
	return n
}

// countHTML reads the failed test cases off report.html's count tiles
// (failed, broken, page loads failed).
func countHTML(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, seen := 0, 0
	for _, m := range regexp.MustCompile(`<li class="(c-failed|c-broken)[^"]*"[^>]*><b>(\d+)</b>`).FindAllStringSubmatch(string(b), -1) {
		n += atoi(m[2])
		seen++
	}
	if seen < 2 {
		t.Fatalf("no failed and broken tiles in %s", path)
	}
	return n
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}
