package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/reports"
	"github.com/qualcert/qualcert/steps"
)

func TestStepsAndCodesList(t *testing.T) {
	code, out, _ := run(t, "", "steps", "--json")
	var list []steps.Step
	if code != exitOK || json.Unmarshal([]byte(out), &list) != nil || len(list) != len(steps.Steps()) || len(list) < 30 {
		t.Fatalf("steps --json: exit %d, %d steps\n%s", code, len(list), out)
	}
	code, out, _ = run(t, "", "steps")
	for _, s := range list {
		if !strings.Contains(out, s.Kind+" "+s.Example) || !strings.Contains(out, s.Asserts) {
			t.Errorf("qualcert steps lacks %q", s.Example)
		}
	}
	code, out, _ = run(t, "", "codes", "--json")
	var codes []codeEntry
	if code != exitOK || json.Unmarshal([]byte(out), &codes) != nil || len(codes) != len(finding.Codes()) {
		t.Fatalf("codes --json: exit %d, %d codes", code, len(codes))
	}
	_, out, _ = run(t, "", "codes")
	for _, c := range codes {
		if c.Level == "" || c.Requirement == "" || c.Hint == "" || !strings.Contains(out, string(c.Code)) || !strings.Contains(out, c.Hint) {
			t.Errorf("code %+v incomplete or not listed", c)
		}
	}
}

func TestSchemaCommand(t *testing.T) {
	for name, want := range map[string][]byte{"profile": profile.Schema, "report": reports.Schema} {
		code, out, _ := run(t, "", "schema", name)
		if code != exitOK || out != string(want) || !json.Valid([]byte(out)) {
			t.Errorf("schema %s: exit %d", name, code)
		}
	}
	if code, _, stderr := run(t, "", "schema", "reprot"); code != exitUsage || !strings.Contains(stderr, "did you mean report?") {
		t.Errorf("schema reprot: exit %d, %q", code, stderr)
	}
}

func TestFeaturesExport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "suite")
	code, out, stderr := run(t, "", "features", "export", dir)
	if code != exitOK || !strings.Contains(out, filepath.Join(dir, "certification", "1-tag.feature")) {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, sub := range []string{"certification", "reference"} {
		if fs, _ := filepath.Glob(filepath.Join(dir, sub, "*.feature")); len(fs) < 2 {
			t.Errorf("%s: %v", sub, fs)
		}
	}
	if code, _, stderr := run(t, "", "features", "export", dir); code != exitUsage || !strings.Contains(stderr, "already exists") {
		t.Errorf("a second export: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, "", "features", "export"); code != exitUsage {
		t.Errorf("no folder: exit %d", code)
	}
}

const ownFeature = `@own
Feature: House rules
  Scenario: The campaign gets its token in time
    Given the publisher page of the profile
    When the participant opens the page
    Then every campaign receives its token before it asks for metadata
`

// --features adds the publisher's scenarios to the built-in suite;
// --features-only runs them alone; a folder of exported copies is refused
// (its scenarios would run twice). The browser cannot start here: the
// report lists the scenarios the run would have run, as broken.
func TestRunFeaturesAddsToTheBuiltInSuite(t *testing.T) {
	own := t.TempDir()
	if err := os.WriteFile(filepath.Join(own, "house.feature"), []byte(ownFeature), 0o644); err != nil {
		t.Fatal(err)
	}
	noBrowser := filepath.Join(t.TempDir(), "no-chromium")
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--features", own, "--tags", "@own or @tag"}, 4},
		{[]string{"--features", own, "--tags", "(@own or @tag) and not @R-TAG-2"}, 3},
		{[]string{"--features", own, "--features-only"}, 1},
	} {
		dir := t.TempDir()
		args := append([]string{"--profile", writeProfile(t, validProfile), "--report-dir", dir, "--browser-bin", noBrowser}, tc.args...)
		code, out, stderr := runCLI(t, args...)
		if code != exitBroken {
			t.Fatalf("%v: exit %d\n%s\n%s", tc.args, code, out, stderr)
		}
		r := readReport(t, dir)
		if len(r.Scenarios) != tc.want || !strings.Contains(out, "House rules") {
			t.Errorf("%v: %d scenarios, want %d\n%s", tc.args, len(r.Scenarios), tc.want, out)
		}
	}
	export := t.TempDir()
	run(t, "", "features", "export", export)
	code, _, stderr := runCLI(t, "--profile", writeProfile(t, validProfile), "--features", export, "--browser-bin", noBrowser)
	if code != exitUsage || !strings.Contains(stderr, "copies of built-in feature files") {
		t.Errorf("--features on an export: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "--features-only"); code != exitUsage || !strings.Contains(stderr, "--features-only needs --features") {
		t.Errorf("--features-only alone: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, "--tags", "not throttled"); code != exitUsage || !strings.Contains(stderr, "tags start with @") {
		t.Errorf("--tags 'not throttled': exit %d, %q", code, stderr)
	}
}

// A login value_env that is not set stops the run before the browser:
// exit 2, naming the variable, the key and the line.
func TestRunMissingValueEnvIsAProfileError(t *testing.T) {
	body := strings.Replace(validProfile, "  url: http://127.0.0.1:9/contest\n", `  url: http://127.0.0.1:9/contest
  login:
    url: http://127.0.0.1:9/login
    steps:
      - fill: {selector: "#password", value_env: QUALCERT_TEST_UNSET_PASSWORD}
`, 1)
	os.Unsetenv("QUALCERT_TEST_UNSET_PASSWORD")
	code, out, stderr := runCLI(t, "--profile", writeProfile(t, body), "--browser-bin", filepath.Join(t.TempDir(), "no-chromium"))
	if code != exitUsage || !strings.Contains(stderr, "profile.yaml:7: page.login.steps[0].fill.value_env: environment variable QUALCERT_TEST_UNSET_PASSWORD is not set") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, out, stderr)
	}
}
