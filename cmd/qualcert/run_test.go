package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
)

// runCLI runs `qualcert run args…` in-process and returns its exit code and
// its two streams.
func runCLI(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := dispatch(context.Background(), env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, append([]string{"run"}, args...))
	return code, out.String(), errOut.String()
}

func TestRunUsage(t *testing.T) {
	code, out, _ := runCLI(t, "--help")
	if code != exitOK {
		t.Errorf("--help exit %d", code)
	}
	for _, flag := range []string{"-profile", "-report-dir", "-tags", "-features", "-allow", "-concurrency", "-browser-bin", "-browser-url", "-live-kit", "-reveal", "-at", "-har", "-replay", "Exit codes"} {
		if !strings.Contains(out, flag) {
			t.Errorf("--help does not mention %s:\n%s", flag, out)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--no-such-flag"}, "no-such-flag"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--browser-bin", "/x", "--browser-url", "ws://127.0.0.1:1"}, "not both"},
		{[]string{"--concurrency", "0"}, "at least 1"},
		{[]string{"--tags", "@tag &&"}, "--tags"},
		{[]string{"--tags", "@a,,@b"}, "--tags"},
		{[]string{"--features", "/no/such/dir"}, "--features"},
		{[]string{"--allow", "/no/such/allow.yaml"}, "expected-deviations"},
		{[]string{"--color", "sometimes"}, "--color"},
		{[]string{"--at", "yesterday"}, "RFC 3339"},
		{[]string{"--at", "iat"}, "per token"},
		{[]string{"--replay", "/no/such.har"}, "--replay needs --profile"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("run %v: exit %d, stderr %q; want exit 2 naming %q", tc.args, code, stderr, tc.want)
		}
	}
}

// writeProfile writes a profile (and the key file it names) into a temp dir.
func writeProfile(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), []byte(`{"keys":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "profile.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const validProfile = `name: Example Media
page:
  url: http://127.0.0.1:9/contest
campaigns:
  - div_id: qualifio_insert_place_945645
    host: jeux.example.test
    campaign_id: "945644"
token:
  issuer: example-media
  jwks_file: jwks.json
`

func TestRunInvalidProfileNamesKeyAndLine(t *testing.T) {
	p := writeProfile(t, strings.Replace(validProfile, "  issuer:", "  isuer:", 1))
	code, _, stderr := runCLI(t, "--profile", p, "--report-dir", t.TempDir())
	if code != exitUsage {
		t.Errorf("exit %d, want 2", code)
	}
	for _, want := range []string{"invalid profile", "token.isuer", "profile.yaml:9:"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not name %q", stderr, want)
		}
	}
}

// A browser that cannot start is a broken run: exit 3, and a report that
// says so.
func TestRunBrokenBrowser(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := runCLI(t, "--profile", writeProfile(t, validProfile), "--report-dir", dir,
		"--browser-bin", filepath.Join(t.TempDir(), "no-chromium"), "--tags", "@tag")
	if code != exitBroken {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	r := readReport(t, dir)
	if r.Verdict != reports.Broken || len(r.Scenarios) != 3 || r.Summary.Broken != 3 {
		t.Errorf("verdict %s, summary %+v", r.Verdict, r.Summary)
	}
	if len(r.Findings) == 0 || r.Findings[0].Code != "env.browser" {
		t.Errorf("findings %+v: want env.browser", r.Findings)
	}
}

func readReport(t *testing.T, dir string) reports.Report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reports.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	return r
}

// With no profile, run certifies the demo's good variant and passes.
func TestRunCertifiesTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := exec.LookPath(defaultChromium); err != nil {
		t.Skip("no Chromium at " + defaultChromium)
	}
	dir := t.TempDir()
	code, out, stderr := runCLI(t, "--report-dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(out, `certifying the embedded demo publisher's good variant "jws-inline"`) {
		t.Errorf("stdout does not say it certifies the demo:\n%s", out)
	}
	r := readReport(t, dir)
	if r.Verdict != reports.Passed || r.Summary.Failed != 0 || r.Summary.Broken != 0 || r.Summary.Passed < 10 {
		t.Errorf("verdict %s, summary %+v", r.Verdict, r.Summary)
	}
	for _, f := range []string{"report.html", "junit.xml", "cucumber.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

// A publisher's own feature files run with the same steps against their
// profile; a must-level finding fails the run with exit 1.
func TestRunOwnFeaturesAgainstAProfile(t *testing.T) {
	srv := startDemoWithChromium(t)
	work := t.TempDir()
	profilePath := filepath.Join(work, "expired.yaml")
	if err := srv.WriteProfile("expired", profilePath); err != nil {
		t.Fatal(err)
	}
	featDir := filepath.Join(work, "features")
	if err := os.Mkdir(featDir, 0o755); err != nil {
		t.Fatal(err)
	}
	own := `Feature: Our contest page
  Scenario: The participant reaches the prefilled form
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page
    Then the participant sees the identification form prefilled
`
	if err := os.WriteFile(filepath.Join(featDir, "contest.feature"), []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(work, "report")
	code, out, stderr := runCLI(t, "--profile", profilePath, "--features", featDir, "--features-only", "--report-dir", dir)
	t.Logf("stdout:\n%s", out)
	if code != exitFailed {
		t.Fatalf("exit %d, want 1\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "The participant reaches the prefilled form") || !strings.Contains(out, "token.expired") {
		t.Errorf("progress does not name the scenario and the code:\n%s", out)
	}
	r := readReport(t, dir)
	if len(r.Scenarios) != 1 || r.Scenarios[0].Status != reports.Failed || r.Verdict != reports.Failed {
		t.Errorf("verdict %s, scenarios %+v", r.Verdict, r.Scenarios)
	}
}

// startDemoWithChromium skips a test that needs Chromium when it is short or
// Chromium is absent, else starts the demo publisher on loopback for it
// (closed when the test ends).
func startDemoWithChromium(t *testing.T) *demo.Server {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := exec.LookPath(defaultChromium); err != nil {
		t.Skip("no Chromium at " + defaultChromium)
	}
	srv, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// --burst applies to a Chromium qualcert launches, by default only when
// --concurrency is not asked for.
func TestLocalBurst(t *testing.T) {
	local, remote, grid := harness.Options{}, harness.Options{BrowserURL: "ws://127.0.0.1:9222/x"}, harness.Options{Grid: "http://127.0.0.1:4444"}
	for _, c := range []struct {
		opt                      harness.Options
		burst                    int
		burstSet, concurrencySet bool
		want                     int
	}{
		{local, 3, false, false, 3},
		{local, 3, false, true, 0},
		{local, 2, true, true, 2},
		{local, 0, true, false, 0},
		{remote, 3, false, false, 0},
		{grid, 3, true, false, 0},
	} {
		if got := localBurst(c.opt, c.burst, c.burstSet, c.concurrencySet); got != c.want {
			t.Errorf("localBurst(%+v, %d, burst set %v, concurrency set %v) = %d, want %d", c.opt, c.burst, c.burstSet, c.concurrencySet, got, c.want)
		}
	}
}
