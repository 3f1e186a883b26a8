package steps

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/features"
	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/reports"
)

// browserForTests returns Debian's Chromium, or skips: these tests load real
// pages in a real browser.
func browserForTests(t *testing.T) harness.Options {
	t.Helper()
	if testing.Short() {
		t.Skip("loads pages in Chromium")
	}
	bin, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		t.Skip("no Chromium at /usr/bin/chromium")
	}
	return harness.Options{BrowserBin: bin}
}

func startDemo(t *testing.T) *demo.Server {
	t.Helper()
	srv, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the demo: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// TestReferenceSuite runs the reference suite (Qualifio's documented
// behaviour) against the demo variants, each scenario as a subtest:
//
//	go test ./steps -run 'TestReferenceSuite/Demo_variant_expired'
func TestReferenceSuite(t *testing.T) {
	browser := browserForTests(t)
	srv := startDemo(t)
	r, err := Run(context.Background(), Config{
		Demo: srv, Features: features.FS, Paths: []string{features.Reference},
		Concurrency: 2, Browser: browser, TestingT: t,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range r.Scenarios {
		if s.Status != reports.Passed && s.SkipReason != notRun {
			t.Errorf("%s: %s", s.Name, s.Status)
		}
	}
	// Every variant the demo serves is in the outline, so a new variant
	// cannot go unchecked.
	for _, v := range srv.Variants() {
		if !slices.ContainsFunc(r.Scenarios, func(s reports.Scenario) bool { return s.Name == "Demo variant "+v.Slug }) {
			t.Errorf("demo variant %q has no row in features/reference/2-demo-variants.feature", v.Slug)
		}
	}
}

// TestCertificationOfDemoVariants runs the certification suite against
// demo pages as a publisher's profile would: good integrations pass with
// the inapplicable flows skipped, a faulty one fails on the right scenario
// with the code and its hint.
func TestCertificationOfDemoVariants(t *testing.T) {
	browser := browserForTests(t)
	srv := startDemo(t)
	for _, tc := range []struct {
		slug       string
		verdict    string
		notSkipped string // a scenario that must run for this variant
		failing    string // a scenario that must fail, naming code
		code       finding.Code
		blocked    string       // a scenario not reached, blocked by code
		warns      finding.Code // a should-level finding the run reports
	}{
		{slug: "two-campaigns", verdict: reports.Passed, notSkipped: "Several campaigns on one page each get their own token"},
		{slug: "jws-access-token", verdict: reports.Passed, notSkipped: "The token carries an access token for the user-info webservice"},
		{slug: "jwe-nested", verdict: reports.Passed, notSkipped: "An encrypted token can be decrypted and is authenticated"},
		// Certified logged out, the variant warns (page.logged_out_blocked);
		// its profile's session lets the logged-in scenarios see a logged-in
		// participant (without it they failed with token.missing).
		{slug: "logged-out-empty-token", verdict: reports.Passed, notSkipped: "A visitor who is not logged in is not left on the spinner", warns: finding.PageLoggedOutBlocked},
		{slug: "expired", verdict: reports.Failed, failing: "The token is used within its short lifetime", code: finding.TokenExpired},
		{slug: "token-late", verdict: reports.Failed, failing: "Every campaign receives its token before it asks for it", code: finding.SetMetaDataLate,
			blocked: "The token is used within its short lifetime"},
	} {
		t.Run(tc.slug, func(t *testing.T) {
			p, err := srv.Profile(tc.slug)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Run(context.Background(), Config{Profile: p, Tags: "~@throttled", Concurrency: 2, Browser: browser, ReportDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			r.Finalize()
			if r.Verdict != tc.verdict {
				t.Errorf("verdict %s, want %s; findings %v", r.Verdict, tc.verdict, r.Findings)
			}
			if tc.warns != "" && !slices.ContainsFunc(r.Findings, func(f finding.Finding) bool { return f.Code == tc.warns }) {
				t.Errorf("no %s among the findings %v", tc.warns, r.Findings)
			}
			for _, s := range r.Scenarios {
				switch {
				case s.Name == tc.notSkipped && s.Status != reports.Passed:
					t.Errorf("%q: %s (%s)", s.Name, s.Status, s.SkipReason)
				case s.Name == tc.failing:
					// The step that failed (the ones after it are skipped).
					last := s.Steps[len(s.Steps)-1]
					for _, st := range s.Steps {
						if st.Status == reports.Failed {
							last = st
							break
						}
					}
					if s.Status != reports.Failed || !strings.Contains(last.Error, string(tc.code)) || !strings.Contains(last.Error, "hint:") {
						t.Errorf("%q: %s, failed step %+v; want failed naming %s and its hint", s.Name, s.Status, last, tc.code)
					}
					if len(s.Attachments) == 0 {
						t.Errorf("%q: no screenshot attached", s.Name)
					}
				case s.Name == tc.blocked:
					if s.Status != reports.Failed || s.BlockedBy != string(tc.code) {
						t.Errorf("%q: %s blocked by %q; want failed, not reached, blocked by %s", s.Name, s.Status, s.BlockedBy, tc.code)
					}
				case tc.verdict == reports.Passed && s.Status == reports.Failed:
					t.Errorf("%q failed: %+v", s.Name, s.Steps)
				}
			}
			// one cause: everything else that failed points at it
			if tc.blocked != "" {
				causes := 0
				for _, c := range reports.Causes(r) {
					if c.Finding.Level == finding.Must && c.Finding.Allowed == "" {
						causes++
						if c.Finding.Code != tc.code {
							t.Errorf("cause %s besides %s: %+v", c.Finding.Code, tc.code, c)
						}
					}
				}
				if causes != 1 {
					t.Errorf("%d causes to fix, want 1 (%s)", causes, tc.code)
				}
			}
		})
	}
}
