package reports

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

type fixture struct {
	name    string
	build   func(t *testing.T, dir string) *Report
	verdict string
	summary Summary
}

func fixtures() []fixture {
	return []fixture{
		{"passed", func(*testing.T, string) *Report { return passedReport() }, Passed, Summary{Scenarios: 3, Passed: 2, Skipped: 1, Warnings: 1}},
		{"failed", func(*testing.T, string) *Report { return failedReport() }, Failed, Summary{Scenarios: 3, Passed: 2, Failed: 1, Warnings: 1}},
		{"broken", func(*testing.T, string) *Report { return brokenReport() }, Broken, Summary{Scenarios: 2, Skipped: 1, Broken: 1}},
		{"allowed", func(t *testing.T, _ string) *Report { return allowedReport(t) }, Failed, Summary{Scenarios: 3, Passed: 3, Warnings: 0}},
		{"screenshots", func(t *testing.T, dir string) *Report { return screenshotReport(t, dir) }, Failed, Summary{Scenarios: 3, Passed: 2, Failed: 1, Warnings: 1}},
	}
}

// allowedReport is failedReport with an expected-deviations file that
// allows all of its must findings and the race warning, plus one stale
// entry: the verdict is failed because of the stale entry alone.
func allowedReport(t testing.TB) *Report {
	r := failedReport()
	a, err := ParseAllow([]byte(`
allow:
  - code: setmetadata.late
    campaign: qualifio_insert_place_945645
    reason: "known: the SSO refresh lands late; ticket OPS-123"
  - code: campaign.blocked
    reason: consequence of OPS-123
  - code: "token.exp*"
    scenario: "A logged-in participant*"
    reason: test clock skew on the staging SSO
  - code: setmetadata.race
    reason: "accepted under Slow 3G"
  - code: token.leaked
    reason: fixed in release 4.2, kept to prove it
`))
	if err != nil {
		t.Fatal(err)
	}
	a.Apply(r)
	return r
}

func TestFinalizeVerdictAndCounts(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			r := fx.build(t, t.TempDir())
			r.Finalize()
			if r.Verdict != fx.verdict {
				t.Errorf("verdict = %q, want %q", r.Verdict, fx.verdict)
			}
			if r.Summary != fx.summary {
				t.Errorf("summary = %+v, want %+v", r.Summary, fx.summary)
			}
			for i := 1; i < len(r.Findings); i++ {
				if r.Findings[i-1].Level.Rank() > r.Findings[i].Level.Rank() {
					t.Errorf("findings not sorted by level: %v before %v", r.Findings[i-1].Code, r.Findings[i].Code)
				}
			}
		})
	}
}

func TestFinalizeRules(t *testing.T) {
	t.Run("all allowed passes", func(t *testing.T) {
		r := failedReport()
		a := &AllowList{Entries: []AllowEntry{{Code: "*", Reason: "everything is known"}}}
		a.Apply(r)
		r.Finalize()
		if r.Verdict != Passed || r.Summary.Failed != 0 || r.Summary.Warnings != 0 {
			t.Fatalf("verdict %s, summary %+v; want passed with no failure and no warning", r.Verdict, r.Summary)
		}
		if len(r.StaleAllowances) != 0 {
			t.Fatalf("stale = %v", r.StaleAllowances)
		}
	})
	t.Run("failed scenario without a finding fails", func(t *testing.T) {
		r := passedReport()
		r.Findings = nil
		r.Scenarios[0].Status = Failed
		r.Finalize()
		if r.Verdict != Failed {
			t.Fatalf("verdict = %s, want failed", r.Verdict)
		}
	})
	t.Run("must finding fails even if every scenario passed", func(t *testing.T) {
		r := passedReport()
		r.Findings = append(r.Findings, finding.New(finding.KitMissing, ""))
		r.Finalize()
		if r.Verdict != Failed {
			t.Fatalf("verdict = %s, want failed", r.Verdict)
		}
	})
	t.Run("a finding no scenario asserted fails its page load, not a scenario", func(t *testing.T) {
		r := passedReport()
		f := finding.New(finding.CampaignBlocked, "blocked on the shared page load")
		f.PageLoad = "profile"
		r.Findings = append(r.Findings, f)
		r.PageLoads = []PageLoad{{ID: "profile", Conditions: "profile", Status: Passed}}
		r.Finalize()
		if r.Scenarios[1].Status != Passed || r.Summary.Failed != 0 || r.Summary.PageLoadsFailed != 1 || r.PageLoads[0].Status != Failed || r.Verdict != Failed {
			t.Fatalf("status %s, summary %+v, page load %s, verdict %s", r.Scenarios[1].Status, r.Summary, r.PageLoads[0].Status, r.Verdict)
		}
	})
	t.Run("an allowed cause allows what it caused", func(t *testing.T) {
		r := passedReport()
		late := finding.New(finding.SetMetaDataLate, "1 s late").WithCampaign(campA)
		late.Scenario = r.Scenarios[0].Name
		blocked := finding.New(finding.CampaignBlocked, "blocked").WithCampaign(campA)
		blocked.Scenario, blocked.CausedBy = r.Scenarios[0].Name, finding.SetMetaDataLate
		r.Findings = append(r.Findings, late, blocked)
		r.Scenarios[0].Status = Failed
		a := &AllowList{Entries: []AllowEntry{{Code: "setmetadata.late", Reason: "slow SSO until OPS-1"}}}
		a.Apply(r)
		r.Finalize()
		if r.Verdict != Passed || r.Scenarios[0].Status != Passed {
			t.Fatalf("verdict %s, status %s, findings %v", r.Verdict, r.Scenarios[0].Status, r.Findings)
		}
		for _, f := range r.Findings {
			if f.Code == finding.CampaignBlocked && !strings.Contains(f.Allowed, "caused by setmetadata.late") {
				t.Errorf("campaign.blocked allowed as %q", f.Allowed)
			}
		}
		if cs := Causes(r); len(cs) != 2 || cs[0].Finding.Code != finding.SetMetaDataLate || len(cs[0].Caused) != 1 {
			t.Errorf("causes %+v: want setmetadata.late with campaign.blocked under it", cs)
		}
	})
	t.Run("broken wins", func(t *testing.T) {
		r := failedReport()
		r.Scenarios[1].Status = Broken
		r.Finalize()
		if r.Verdict != Broken {
			t.Fatalf("verdict = %s, want broken", r.Verdict)
		}
	})
}

func writeFixture(t *testing.T, fx fixture, opt WriteOptions) (string, *Report) {
	t.Helper()
	dir := t.TempDir()
	r := fx.build(t, dir)
	r.Finalize()
	paths, err := WriteAll(dir, r, opt)
	if err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	if len(paths) != 4 {
		t.Fatalf("paths = %v", paths)
	}
	return dir, r
}

func TestReportJSONValidatesAgainstSchema(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			dir, r := writeFixture(t, fx, WriteOptions{})
			b, err := os.ReadFile(filepath.Join(dir, JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateJSON(b); err != nil {
				t.Fatal(err)
			}
			var back Report
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Verdict != r.Verdict || back.Summary != r.Summary || len(back.Scenarios) != len(r.Scenarios) || len(back.Findings) != len(r.Findings) {
				t.Errorf("round trip lost data: %+v", back.Summary)
			}
			if !bytes.Contains(b, []byte("\n  \"schema\": \"qualcert.report/v1\"")) {
				t.Error("report.json is not indented or lacks the schema id")
			}
		})
	}
}

func TestValidateJSONRejects(t *testing.T) {
	dir, _ := writeFixture(t, fixtures()[1], WriteOptions{})
	good, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(m map[string]any){
		"bad verdict":      func(m map[string]any) { m["verdict"] = "maybe" },
		"missing summary":  func(m map[string]any) { delete(m, "summary") },
		"unknown field":    func(m map[string]any) { m["extra"] = 1 },
		"findings null":    func(m map[string]any) { m["findings"] = nil },
		"bad level":        func(m map[string]any) { m["findings"].([]any)[0].(map[string]any)["level"] = "fatal" },
		"bad timeline src": func(m map[string]any) { sc(m)["timeline"].([]any)[0].(map[string]any)["source"] = "cloud" },
		"escaping path": func(m map[string]any) {
			sc(m)["attachments"] = []any{map[string]any{"name": "x", "media_type": "image/png", "path": "../x.png"}}
		},
		"bad fingerprint":    func(m map[string]any) { sc(m)["tokens"].([]any)[0].(map[string]any)["fingerprint"] = "eyJraw" },
		"bad started_at":     func(m map[string]any) { m["started_at"] = "yesterday" },
		"wrong schema id":    func(m map[string]any) { m["schema"] = "qualcert.report/v2" },
		"negative count":     func(m map[string]any) { m["summary"].(map[string]any)["failed"] = -1 },
		"step without error": func(m map[string]any) { delete(sc(m)["steps"].([]any)[0].(map[string]any), "error") },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(good, &m); err != nil {
				t.Fatal(err)
			}
			mutate(m)
			b, _ := json.Marshal(m)
			if err := ValidateJSON(b); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if err := ValidateJSON([]byte("{not json")); err == nil {
		t.Fatal("accepted broken JSON")
	}
}

func sc(m map[string]any) map[string]any { return m["scenarios"].([]any)[0].(map[string]any) }

// TestSchemaFileIsTheEmbeddedOne keeps the repository copy and the embedded
// schema the same file (go:embed reads it at build time) and checks the id.
func TestSchemaFileIsTheEmbeddedOne(t *testing.T) {
	b, err := os.ReadFile("schema/report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, Schema) {
		t.Fatal("embedded schema differs from the file")
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if id, _ := s["$id"].(string); !strings.Contains(id, SchemaID) {
		t.Fatalf("$id %q does not name %s", id, SchemaID)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Fatalf("$schema = %v", s["$schema"])
	}
}

// TestRedaction plants raw secrets where a careless producer could put them:
// a raw token and a participant e-mail in a step error, a finding message
// and timeline data ("token", "authorization" keys); raw participant values
// in TokenView.Claims (a producer that passed Result.Claims instead of
// RedactedClaims). Unless revealed, no output (report.json, report.html,
// junit.xml, cucumber.json, the terminal summary) contains the raw token, its
// payload segment, the e-mail, the first name or the access token. With
// Reveal, the claim values are there (so the assertion can fail).
func TestRedaction(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			dir, r := writeFixture(t, fx, WriteOptions{})
			outputs := readOutputs(t, dir)
			var sum bytes.Buffer
			WriteSummary(&sum, r, filepath.Join(dir, HTMLFile))
			outputs["summary"] = sum.String()
			for name, out := range outputs {
				for _, secret := range planted {
					if strings.Contains(out, secret) {
						t.Errorf("%s contains planted secret %q", name, secret)
					}
				}
			}
			if fx.name == "failed" && !strings.Contains(outputs[JSONFile], finding.Fingerprint(plantedToken)) {
				t.Error("report.json lacks the token's fingerprint")
			}
		})
	}
	t.Run("revealed", func(t *testing.T) {
		dir, r := writeFixture(t, fixtures()[1], WriteOptions{Reveal: true})
		outputs := readOutputs(t, dir)
		for _, name := range []string{JSONFile, HTMLFile} {
			if !strings.Contains(outputs[name], plantedEmail) || !strings.Contains(outputs[name], plantedName) {
				t.Errorf("%s: revealed run lacks the claim values", name)
			}
		}
		if !strings.Contains(outputs[JSONFile], `"revealed": true`) {
			t.Error("report.json does not say it is revealed")
		}
		if r.Revealed {
			t.Error("WriteAll modified the report")
		}
	})
	t.Run("model untouched", func(t *testing.T) {
		r := failedReport()
		r.Finalize()
		before, _ := json.Marshal(r)
		if _, err := WriteAll(t.TempDir(), r, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		after, _ := json.Marshal(r)
		if !bytes.Equal(before, after) {
			t.Error("WriteAll changed the report it was given")
		}
	})
}

func readOutputs(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range []string{JSONFile, HTMLFile, JUnitFile, CucumberFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	return out
}

func TestRedactText(t *testing.T) {
	for in, keep := range map[string]string{
		"token " + plantedToken + " seen":   "token [redacted hmac:",
		"payload " + plantedPayload:         "payload [redacted hmac:",
		"mail jane.doe@example.org here":    "mail [redacted hmac:",
		"setMetaData arrived 840 ms late":   "setMetaData arrived 840 ms late",
		"https://jeux.example.com/campaign": "https://jeux.example.com/campaign",
	} {
		got := finding.RedactText(in)
		if !strings.HasPrefix(got, keep) {
			t.Errorf("RedactText(%q) = %q, want prefix %q", in, got, keep)
		}
		for _, s := range planted {
			if strings.Contains(got, s) {
				t.Errorf("RedactText(%q) kept %q", in, s)
			}
		}
	}
}

func TestJUnitStructure(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			dir, r := writeFixture(t, fx, WriteOptions{})
			b, err := os.ReadFile(filepath.Join(dir, JUnitFile))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range checkJUnitSchema(bytes.NewReader(b)) {
				t.Error(e)
			}
			root, err := parseXMLTree(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]bool{}
			cases, failures, skipped, errors := 0, 0, 0, 0
			for _, suite := range root.children {
				for _, tc := range suite.children {
					if tc.name != "testcase" {
						continue
					}
					cases++
					key := attr(tc, "classname") + "\x00" + attr(tc, "name")
					if names[key] {
						t.Errorf("duplicate testcase %q in %q", attr(tc, "name"), attr(tc, "classname"))
					}
					names[key] = true
					for _, c := range tc.children {
						switch c.name {
						case "failure":
							failures++
							if _, ok := finding.Lookup(finding.Code(attr(c, "type"))); !ok && attr(c, "type") != "allow.stale" && attr(c, "type") != "step" {
								t.Errorf("failure type %q is not a finding code", attr(c, "type"))
							}
							if !strings.Contains(attr(c, "message"), "hint:") {
								t.Errorf("failure message lacks the hint: %q", attr(c, "message"))
							}
						case "skipped":
							skipped++
							if attr(c, "message") == "" {
								t.Error("skipped without a reason")
							}
						case "error":
							errors++
						}
					}
				}
			}
			extra := 0
			if len(r.StaleAllowances) > 0 {
				extra++
			}
			for _, f := range r.Findings {
				if f.Scenario == "" {
					extra++
					break
				}
			}
			if cases != len(r.Scenarios)+extra {
				t.Errorf("%d testcases for %d scenarios (+%d run-level)", cases, len(r.Scenarios), extra)
			}
			if skipped != r.Summary.Skipped || errors != r.Summary.Broken {
				t.Errorf("skipped %d errors %d, summary %+v", skipped, errors, r.Summary)
			}
			wantFail := r.Summary.Failed + len(r.StaleAllowances)
			if failures < wantFail {
				t.Errorf("%d failures, want at least %d", failures, wantFail)
			}
			if fx.name == "screenshots" {
				want := "[[ATTACHMENT|" + filepath.ToSlash(filepath.Join(dir, "screenshots/s1-blocked.png")) + "]]"
				if !strings.Contains(string(b), want) || strings.Contains(string(b), "missing.png]]") || strings.Contains(string(b), "passwd") {
					t.Errorf("junit.xml does not name exactly the existing screenshots as %s", want)
				}
			}
			if fx.name == "failed" {
				s := string(b)
				for _, want := range []string{`type="token.expired"`, "setmetadata.late", `name="A logged-in participant reaches the prefilled form (2)"`, "timeline:", "getMetaData"} {
					if !strings.Contains(s, want) {
						t.Errorf("junit.xml lacks %q", want)
					}
				}
			}
		})
	}
}

func attr(n *xmlNode, name string) string {
	for _, a := range n.attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// TestJUnitSchemaCheckCatchesErrors keeps the structural check honest.
func TestJUnitSchemaCheckCatchesErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"wrong order":     `<testsuites><testsuite name="a" tests="1"><system-out/><testcase name="x"/></testsuite></testsuites>`,
		"missing name":    `<testsuites><testsuite tests="1"><testcase name="x"/></testsuite></testsuites>`,
		"bad time":        `<testsuites><testsuite name="a" tests="1"><testcase name="x" time="1,5"/></testsuite></testsuites>`,
		"two failures":    `<testsuites><testsuite name="a" tests="1"><testcase name="x"><failure/><failure/></testcase></testsuite></testsuites>`,
		"unknown element": `<testsuites><testsuite name="a" tests="1"><testcase name="x"><flaky/></testcase></testsuite></testsuites>`,
		"zoned timestamp": `<testsuites><testsuite name="a" tests="0" timestamp="2026-11-24T10:00:00Z"/></testsuites>`,
		"text in suite":   `<testsuites><testsuite name="a" tests="0">hello</testsuite></testsuites>`,
		"empty props":     `<testsuites><testsuite name="a" tests="0"><properties/></testsuite></testsuites>`,
	} {
		if errs := checkJUnitSchema(strings.NewReader(doc)); len(errs) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCucumberRoundTrip(t *testing.T) {
	fx := fixtures()[4] // screenshots
	dir, r := writeFixture(t, fx, WriteOptions{})
	b, err := os.ReadFile(filepath.Join(dir, CucumberFile))
	if err != nil {
		t.Fatal(err)
	}
	var features []CucumberFeature
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&features); err != nil {
		t.Fatalf("cucumber.json does not parse back: %v", err)
	}
	if len(features) != 3 || features[2].Name != "qualcert run" {
		t.Fatalf("%d features, want 2 and the run-level one", len(features))
	}
	features = features[:2]
	els := 0
	ids := map[string]bool{}
	var embeddings []CucumberEmbedding
	var embeddedOn []string
	for _, f := range features {
		if f.URI == "" || f.Keyword != "Feature" {
			t.Errorf("feature %q: uri %q keyword %q", f.Name, f.URI, f.Keyword)
		}
		for _, el := range f.Elements {
			els++
			if ids[el.ID] {
				t.Errorf("duplicate element id %q", el.ID)
			}
			ids[el.ID] = true
			if el.Type != "scenario" || len(el.Steps) == 0 {
				t.Errorf("element %q: type %q, %d steps", el.Name, el.Type, len(el.Steps))
			}
			for _, st := range el.Steps {
				switch st.Result.Status {
				case "passed", "failed", "skipped", "undefined", "pending":
				default:
					t.Errorf("step status %q", st.Result.Status)
				}
				if st.Result.Status == "failed" && st.Result.ErrorMessage == "" {
					t.Error("failed step without error_message")
				}
				for _, e := range st.Embeddings {
					embeddings = append(embeddings, e)
					embeddedOn = append(embeddedOn, st.Name)
				}
			}
			for _, tag := range el.Tags {
				if !strings.HasPrefix(tag.Name, "@") {
					t.Errorf("tag %q", tag.Name)
				}
			}
		}
	}
	if els != len(r.Scenarios) {
		t.Fatalf("%d elements for %d scenarios", els, len(r.Scenarios))
	}
	if len(embeddings) != 2 {
		t.Fatalf("%d embeddings, want the 2 readable screenshots", len(embeddings))
	}
	if embeddedOn[0] != r.Scenarios[0].Steps[2].Text {
		t.Errorf("first screenshot on step %q, want the step it names", embeddedOn[0])
	}
	if embeddedOn[1] != r.Scenarios[1].Steps[len(r.Scenarios[1].Steps)-1].Text {
		t.Errorf("second screenshot on step %q, want the last step", embeddedOn[1])
	}
	png, err := base64.StdEncoding.DecodeString(embeddings[0].Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || embeddings[0].MimeType != "image/png" {
		t.Fatalf("embedding is not a base64 PNG (err %v)", err)
	}
	if el := features[0].Elements[0]; el.Line != 12 || features[0].URI != "certification/1-identity.feature" {
		t.Errorf("location %s:%d, want the one of the scenario id", features[0].URI, el.Line)
	}
	dur := features[0].Elements[0].Steps[1].Result.Duration
	if dur != 900*1e6 {
		t.Errorf("duration %d ns, want 900 ms in ns", dur)
	}
}

func TestAllowFile(t *testing.T) {
	bad := map[string]string{
		"no reason":       "- code: token.expired\n",
		"unknown key":     "- code: token.expired\n  reason: x\n  campain: a\n",
		"unknown code":    "- code: token.expird\n  reason: x\n",
		"not a list":      "code: token.expired\n",
		"bad glob":        "- code: \"token.[\"\n  reason: x\n",
		"entry not a map": "- token.expired\n",
		"bad yaml":        "- code: [unclosed\n",
		"nested value":    "- code: token.expired\n  reason: {a: b}\n",
		"allows all":      "- code: \"*\"\n  reason: x\n",
		"any family":      "- code: \"*.expired\"\n  reason: x\n",
	}
	wantLine := map[string]string{"no reason": "line 1", "unknown key": "line 3", "unknown code": "line 1", "not a list": "line 1", "entry not a map": "line 1", "nested value": "line 2", "allows all": "line 1"}
	for name, doc := range bad {
		_, err := ParseAllow([]byte(doc))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if l := wantLine[name]; l != "" && !strings.Contains(err.Error(), l) {
			t.Errorf("%s: error %q does not name %s", name, err, l)
		}
	}
	for _, empty := range []string{"", "allow:\n", "[]\n"} {
		a, err := ParseAllow([]byte(empty))
		if err != nil || len(a.Entries) != 0 {
			t.Errorf("%q: %v, %v", empty, a, err)
		}
	}

	example, err := LoadAllow("testdata/allow-example.yaml")
	if err != nil || len(example.Entries) != 2 || example.Entries[1].Campaign != campA || example.Entries[1].Line != 16 {
		t.Errorf("the documented example: %+v, %v", example, err)
	}

	path := filepath.Join(t.TempDir(), "allow.yaml")
	if err := os.WriteFile(path, []byte("- code: setmetadata.late\n  reason: OPS-123\n- code: userinfo.slow\n  reason: staging is slow\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := LoadAllow(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LoadAllow(path + ".missing"); err == nil || !strings.Contains(err.Error(), "expected-deviations") {
		t.Errorf("missing file: %v", err)
	}
	r := failedReport()
	a.Apply(r)
	r.Finalize()
	allowed := 0
	for _, f := range r.Findings {
		if f.Allowed != "" {
			allowed++
			if f.Code != finding.SetMetaDataLate || f.Allowed != "OPS-123" {
				t.Errorf("allowed %s with %q", f.Code, f.Allowed)
			}
		}
	}
	if allowed != 1 {
		t.Errorf("%d allowed, want 1", allowed)
	}
	if len(r.StaleAllowances) != 1 || r.StaleAllowances[0].Code != "userinfo.slow" || r.StaleAllowances[0].Line != 3 {
		t.Errorf("stale = %+v, want userinfo.slow at line 3", r.StaleAllowances)
	}
	if r.Verdict != Failed {
		t.Errorf("verdict %s", r.Verdict)
	}

	t.Run("campaign and scenario narrow", func(t *testing.T) {
		r := failedReport()
		(&AllowList{Entries: []AllowEntry{
			{Code: "setmetadata.late", Campaign: campB, Reason: "wrong campaign"},
			{Code: "token.expired", Scenario: "Some other scenario", Reason: "wrong scenario"},
		}}).Apply(r)
		for _, f := range r.Findings {
			if f.Allowed != "" {
				t.Errorf("%s allowed by a non-matching entry", f.Code)
			}
		}
		if len(r.StaleAllowances) != 2 {
			t.Errorf("stale = %v", r.StaleAllowances)
		}
	})
}

func TestAllowedAndStaleShowEverywhere(t *testing.T) {
	dir, r := writeFixture(t, fixtures()[3], WriteOptions{})
	if len(r.StaleAllowances) != 1 || r.StaleAllowances[0].Code != "token.leaked" {
		t.Fatalf("stale = %+v", r.StaleAllowances)
	}
	out := readOutputs(t, dir)
	var sum bytes.Buffer
	WriteSummary(&sum, r, "report.html")
	out["summary"] = sum.String()
	for name, s := range out {
		if !strings.Contains(s, "token.leaked") {
			t.Errorf("%s does not show the stale entry", name)
		}
		if !strings.Contains(s, "OPS-123") {
			t.Errorf("%s does not show the allowed reason", name)
		}
	}
	if !strings.Contains(out[JSONFile], `"stale_allowances"`) {
		t.Error("report.json lacks stale_allowances")
	}
}

func TestSummary(t *testing.T) {
	r := failedReport()
	r.Finalize()
	var b bytes.Buffer
	WriteSummary(&b, r, "/tmp/qualcert-report/report.html")
	s := b.String()
	for _, want := range []string{"qualcert FAILED", "3 scenarios: 2 passed, 1 failed, 0 skipped, 0 broken; 1 warning", "setmetadata.late", "[" + campA + "]", "fix: ", "token.expired", "Report: /tmp/qualcert-report/report.html"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "\x1b[") {
		t.Error("colour without asking")
	}
	// warnings come after the must-level findings, in a block of their own
	must, warn := strings.Index(s, "What to fix"), strings.Index(s, "Warnings (1)")
	if must < 0 || warn < must || strings.Index(s, "setmetadata.race") < warn {
		t.Errorf("the should-level finding is not listed under Warnings, after the must ones:\n%s", s)
	}
	b.Reset()
	WriteSummaryWith(&b, r, "", SummaryOptions{Color: true})
	if !strings.Contains(b.String(), "\x1b[1;31mFAILED") {
		t.Errorf("no colour when asked:\n%q", b.String())
	}
	if Plural(1, "scenario") != "1 scenario" || Plural(0, "warning") != "0 warnings" {
		t.Error("plurals")
	}
	t.Setenv("NO_COLOR", "")
	t.Setenv("FORCE_COLOR", "1")
	if on, err := ColorMode("auto", nil); err != nil || !on {
		t.Errorf("FORCE_COLOR=1 does not colour: %v %v", on, err)
	}
	if on, _ := ColorMode("never", nil); on {
		t.Error("--color=never colours")
	}
	t.Setenv("FORCE_COLOR", "0")
	if on, _ := ColorMode("always", nil); !on {
		t.Error("--color=always does not colour")
	}
	if _, err := ColorMode("sometimes", nil); err == nil {
		t.Error("--color=sometimes accepted")
	}
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ColorFor(f) {
		t.Error("a regular file is not a terminal")
	}
}

func TestHostileInput(t *testing.T) {
	r := failedReport()
	r.Profile.Name = `<script>alert(1)</script>"]]>`
	r.Scenarios[0].Name = "</details><img src=x onerror=alert(1)>"
	r.Scenarios[0].Steps[0].Error = "bad \x00 byte \x1b[31m and ]]> end"
	r.Scenarios[0].Timeline = append(r.Scenarios[0].Timeline, timeline.Event{TMs: 1, Source: "evil</text><script>", Event: "<b>x</b>", Data: map[string]any{"f": []any{1, map[string]any{"n": nil}}}})
	r.Scenarios[0].Attachments = []Attachment{{Name: "abs", MediaType: "image/png", Path: "/etc/hostname"}, {Name: "svg", MediaType: "image/svg+xml", Path: "x.svg"}}
	r.Finalize()
	dir := t.TempDir()
	if _, err := WriteAll(dir, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	out := readOutputs(t, dir)
	if strings.Contains(out[HTMLFile], "<script>alert(1)") || strings.Contains(out[HTMLFile], "<img src=x") || strings.Contains(out[HTMLFile], "evil</text>") {
		t.Error("report.html does not escape")
	}
	if errs := checkJUnitSchema(strings.NewReader(out[JUnitFile])); len(errs) > 0 {
		t.Errorf("junit.xml: %v", errs)
	}
	if strings.Count(out[HTMLFile], "<script>") != 1 {
		t.Error("more than the one inline script")
	}
}

// TestHTMLSharesRepeats checks that a finding seen by several scenarios is
// one card naming them all, and that a screenshot shared by several
// scenarios is embedded once.
func TestHTMLSharesRepeats(t *testing.T) {
	dir := t.TempDir()
	r := screenshotReport(t, dir)
	r.Scenarios[2].Attachments = r.Scenarios[1].Attachments // the same file
	info := finding.New(finding.CampaignCNAMEUnchecked, "page on 127.0.0.1").WithCampaign(campA)
	for _, s := range r.Scenarios {
		f := info
		f.Scenario = s.Name
		r.Findings = append(r.Findings, f)
	}
	r.Finalize()
	if _, err := WriteAll(dir, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if n := strings.Count(html, "base64,"); n != 2 {
		t.Errorf("%d embedded images, want 2 (each distinct file once)", n)
	}
	if n := strings.Count(html, `class="shot-img shot-2"`); n != 2 {
		t.Errorf("the shared screenshot is shown %d times, want 2", n)
	}
	if !strings.Contains(html, "in 3 scenarios") {
		t.Error("the repeated finding is not one card naming its 3 scenarios")
	}
}

// BenchmarkWriteAll writes the four reports of the failed run with
// screenshots (the shape of a real run, smaller).
func BenchmarkWriteAll(b *testing.B) {
	dir := b.TempDir()
	r := screenshotReport(b, dir)
	r.Finalize()
	for b.Loop() {
		if _, err := WriteAll(dir, r, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// In a run filtered by --tags, an allowance that matched nothing may be about
// a scenario that did not run: it is listed as not exercised, and fails
// nothing; without a filter the same entry is stale and fails the run.
func TestUnmatchedAllowanceInAFilteredRun(t *testing.T) {
	a, err := ParseAllow([]byte("- code: userinfo.slow\n  reason: staging webservice is slow\n"))
	if err != nil {
		t.Fatal(err)
	}
	filtered := passedReport()
	filtered.TagFilter = "@jws"
	a.Apply(filtered)
	filtered.Finalize()
	if filtered.Verdict != Passed || len(filtered.StaleAllowances) != 0 || len(filtered.UnexercisedAllowances) != 1 {
		t.Fatalf("filtered run: verdict %s, stale %v, unexercised %v", filtered.Verdict, filtered.StaleAllowances, filtered.UnexercisedAllowances)
	}
	dir := t.TempDir()
	if _, err := WriteAll(dir, filtered, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateJSON(b); err != nil {
		t.Fatalf("report.json of a filtered run does not validate: %v", err)
	}
	var sum bytes.Buffer
	WriteSummary(&sum, filtered, "")
	if !strings.Contains(sum.String(), "not exercised by this partial run") {
		t.Errorf("the summary does not list the unexercised allowance:\n%s", sum.String())
	}

	full := passedReport()
	a.Apply(full)
	full.Finalize()
	if full.Verdict != Failed || len(full.StaleAllowances) != 1 {
		t.Fatalf("unfiltered run: verdict %s, stale %v", full.Verdict, full.StaleAllowances)
	}
}

// Every reader counts a page load failed on a finding no scenario asserted:
// the terminal says so under its count line and report.html shows a tile of
// its own, as junit.xml and cucumber.json count it as a test case.
func TestAFailedPageLoadIsCountedByEveryReader(t *testing.T) {
	r := passedReport()
	f := finding.New(finding.TokenDuplicateMember, "iss twice").WithCampaign(campA)
	f.PageLoad = "profile"
	r.Findings = append(r.Findings, f)
	r.PageLoads = []PageLoad{{ID: "profile", Conditions: "profile", Status: Passed}}
	r.Finalize()
	dir := t.TempDir()
	if _, err := WriteAll(dir, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	out := readOutputs(t, dir)
	if !strings.Contains(out[HTMLFile], `<b>1</b><span>page load failed</span>`) {
		t.Error("report.html has no tile for the failed page load")
	}
	var sum bytes.Buffer
	WriteSummary(&sum, r, "")
	if !strings.Contains(sum.String(), "1 page load failed on findings no scenario asserted") {
		t.Errorf("the terminal does not count the failed page load:\n%s", sum.String())
	}
}

// A partial run's headline never reads as a certification: CI logs are
// searched for "qualcert PASSED".
func TestSummaryOfAPartialRun(t *testing.T) {
	r := passedReport()
	r.Partial, r.PartialReason = true, "filtered by --tags @logged-out"
	r.Finalize()
	var b bytes.Buffer
	WriteSummary(&b, r, "")
	s := b.String()
	if strings.Contains(s, "qualcert PASSED") || !strings.HasPrefix(s, "qualcert PARTIAL RUN PASSED (not a certification): ") ||
		!strings.Contains(s, "partial run: not a certification (filtered by --tags @logged-out)") {
		t.Errorf("partial run summary:\n%s", s)
	}
	b.Reset()
	WriteSummaryWith(&b, r, "", SummaryOptions{Color: true})
	if !strings.Contains(b.String(), "\x1b[1;33mPARTIAL RUN PASSED") {
		t.Errorf("a partial pass is not in the warning colour:\n%q", b.String())
	}
}

// "led to" lists the codes a cause led to once each, comma-separated, then
// the scenarios it kept from their checks.
func TestSummaryLedTo(t *testing.T) {
	r := passedReport()
	root := finding.New(finding.SetMetaDataDivIDUnknown, "wrong div").WithCampaign(campA)
	root.Scenario = r.Scenarios[0].Name
	var fs []finding.Finding
	for _, code := range []finding.Code{finding.SetMetaDataMissing, finding.CampaignBlocked, finding.SetMetaDataMissing} {
		f := finding.New(code, "").WithCampaign(campA)
		f.Scenario, f.CausedBy = r.Scenarios[0].Name, finding.SetMetaDataDivIDUnknown
		fs = append(fs, f)
	}
	r.Findings = append(append(r.Findings, root), fs...)
	r.Scenarios[0].Status = Failed
	r.Finalize()
	var b bytes.Buffer
	WriteSummary(&b, r, "")
	if !strings.Contains(b.String(), "led to: setmetadata.missing, campaign.blocked\n") {
		t.Errorf("led to:\n%s", b.String())
	}
}
