package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/har"

	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
)

const prefilledFeature = `Feature: Our contest page
  Scenario: The participant reaches the prefilled form
    Given the publisher page of the profile
    And a logged-in participant
    When the participant opens the page
    Then the participant sees the identification form prefilled
`

// demoRun runs one scenario against the demo's variant slug with args.
func demoRun(t *testing.T, slug string, args ...string) (code int, out, stderr, dir string) {
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
	defer srv.Close()
	work := t.TempDir()
	profilePath := filepath.Join(work, slug+".yaml")
	if err := srv.WriteProfile(slug, profilePath); err != nil {
		t.Fatal(err)
	}
	featDir := filepath.Join(work, "features")
	if err := os.Mkdir(featDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(featDir, "contest.feature"), []byte(prefilledFeature), 0o644); err != nil {
		t.Fatal(err)
	}
	dir = filepath.Join(work, "report")
	code, out, stderr = runCLI(t, append([]string{"--profile", profilePath, "--features", featDir, "--features-only", "--report-dir", dir}, args...)...)
	return code, out, stderr, dir
}

// An expired captured token (the demo's expired variant: issued 20 minutes
// ago, for 10) is valid --at its issue time, and the reports say as of
// when; without --at it is token.expired.
func TestRunAtJudgesTheCapturedToken(t *testing.T) {
	at := time.Now().Add(-19 * time.Minute).UTC().Format(time.RFC3339)
	code, out, stderr, dir := demoRun(t, "expired", "--at", at)
	if code != exitOK || !strings.Contains(out, "judged as of") {
		t.Fatalf("--at %s: exit %d\nstdout:\n%s\nstderr:\n%s", at, code, out, stderr)
	}
	r := readReport(t, dir)
	if r.JudgedAsOf == nil || r.JudgedAsOf.Format(time.RFC3339) != at || r.Verdict != reports.Passed {
		t.Fatalf("--at: verdict %s, judged_as_of %v", r.Verdict, r.JudgedAsOf)
	}
	html, err := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
	if err != nil || !strings.Contains(string(html), "judged as of") {
		t.Fatalf("report.html does not say judged as of (%v)", err)
	}
	code, out, stderr, _ = demoRun(t, "expired")
	if code != exitFailed || !strings.Contains(out, "token.expired") {
		t.Fatalf("without --at: exit %d, want 1 with token.expired\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
}

var jwtInText = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}`)

// run --har writes one HAR per page load, linked from report.html, with no
// raw token nor participant value; with --reveal the HAR keeps them.
func TestRunHARIsRedactedEvidence(t *testing.T) {
	for _, reveal := range []bool{false, true} {
		args := []string{"--har"}
		if reveal {
			args = append(args, "--reveal")
		}
		code, out, stderr, dir := demoRun(t, "jws-inline", args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\nstdout:\n%s\nstderr:\n%s", args, code, out, stderr)
		}
		r := readReport(t, dir)
		var hars []string
		for _, pl := range r.PageLoads {
			for _, a := range pl.Attachments {
				if a.MediaType == reports.HARMediaType {
					hars = append(hars, a.Path)
				}
			}
		}
		if len(hars) != len(r.PageLoads) || len(hars) == 0 {
			t.Fatalf("%v: %d HARs for %d page loads", args, len(hars), len(r.PageLoads))
		}
		html, err := os.ReadFile(filepath.Join(dir, reports.HTMLFile))
		if err != nil || !strings.Contains(string(html), `href="`+hars[0]+`"`) {
			t.Fatalf("%v: report.html does not link %s (%v)", args, hars[0], err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(hars[0])))
		if err != nil {
			t.Fatal(err)
		}
		var h har.HAR
		if err := json.Unmarshal(raw, &h); err != nil {
			t.Fatalf("%v: the HAR does not read back: %v", args, err)
		}
		page, sawPage, sawKit := r.Profile.PageURL, false, false
		for _, e := range h.Log.Entries {
			sawPage = sawPage || (e.Request.URL == page && e.Response.Status == 200 && len(e.Response.Content.Text) > 0)
			sawKit = sawKit || strings.Contains(e.Request.URL, "qualifio")
		}
		if h.Log.Version != "1.2" || !sawPage || !sawKit {
			t.Fatalf("%v: HAR version %q, page with its body %v, kit %v (%d entries)", args, h.Log.Version, sawPage, sawKit, len(h.Log.Entries))
		}
		leaks := jwtInText.MatchString(string(raw)) || strings.Contains(string(raw), demo.DemoEmail) || strings.Contains(string(raw), "Dupont")
		switch {
		case !reveal && (leaks || !reports.IsRedactedHAR(&h)):
			t.Fatalf("redacted HAR: leaks %v, marked redacted %v", leaks, reports.IsRedactedHAR(&h))
		case reveal && (!leaks || reports.IsRedactedHAR(&h)):
			t.Fatalf("--reveal HAR: holds the token %v, marked redacted %v", leaks, reports.IsRedactedHAR(&h))
		}
	}
}
