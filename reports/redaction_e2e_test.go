package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
	"github.com/qualcert/qualcert/steps"
)

// The participant of the demo publisher, as its tokens and user-info carry
// it (harness/demo: alice). None of these may appear in a report, the
// progress log or the terminal summary unless the run is revealed.
var demoParticipant = []string{demo.DemoEmail, "Dupont", "1991-06-14", "dm-user-1042"}

// jwtShaped finds a JWT, or one of its segments (base64url JSON: "eyJ…").
var jwtShaped = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{10,}`)

// base64Blob matches the embedded screenshots, which are stripped before
// scanning: random base64 can spell "eyJ…" by chance.
var base64Blob = regexp.MustCompile(`base64,[A-Za-z0-9+/=]+`)

// TestRedactionEndToEnd certifies demo variants for real (headless
// Chromium, the demo publisher on loopback, the reference verifier), writes
// every report, and scans report.json, report.html, junit.xml,
// cucumber.json, the progress log and the terminal summary: no JWT or JWT
// segment, no participant value. On the way it checks report.json against
// the schema and junit.xml against the JUnit rules. With Reveal the participant's values are
// in report.json and report.html (so the scan can fail).
func TestRedactionEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no Chromium at /usr/bin/chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the demo: %v", err)
	}
	defer srv.Close()

	for _, tc := range []struct {
		variant string
		reveal  bool
	}{
		{"jws-inline", false},
		{"jws-access-token", false},
		{"token-leaked", false}, // the page sends the token to a third party
		{"jws-inline", true},
	} {
		name := tc.variant
		if tc.reveal {
			name += "/revealed"
		}
		t.Run(name, func(t *testing.T) {
			p, err := srv.Profile(tc.variant)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var progress bytes.Buffer
			r, err := steps.Run(ctx, steps.Config{
				Profile: p, Tags: "~@throttled && ~@unhappy", Concurrency: 2, ReportDir: dir, Progress: &progress,
				Browser: harness.Options{BrowserBin: "/usr/bin/chromium", Reveal: tc.reveal}, ToolVersion: "test",
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			r.Revealed = tc.reveal
			r.Finalize()
			if r.Verdict == reports.Broken {
				t.Fatalf("broken run: %+v", r.Findings)
			}
			if _, err := reports.WriteAll(dir, r, reports.WriteOptions{Reveal: tc.reveal}); err != nil {
				t.Fatal(err)
			}
			var summary bytes.Buffer
			reports.WriteSummaryWith(&summary, r, filepath.Join(dir, reports.HTMLFile), reports.SummaryOptions{Reveal: tc.reveal})
			outputs := map[string]string{"progress log": progress.String(), "summary": summary.String()}
			for _, f := range []string{reports.JSONFile, reports.HTMLFile, reports.JUnitFile, reports.CucumberFile} {
				b, err := os.ReadFile(filepath.Join(dir, f))
				if err != nil {
					t.Fatal(err)
				}
				outputs[f] = string(b)
			}
			b, err := os.ReadFile(filepath.Join(dir, reports.JSONFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := reports.ValidateJSON(b); err != nil {
				t.Errorf("report.json of a real run: %v", err)
			}
			for _, e := range reports.CheckJUnitSchema(strings.NewReader(outputs[reports.JUnitFile])) {
				t.Errorf("junit.xml of a real run: %s", e)
			}
			outputs[reports.HTMLFile] = base64Blob.ReplaceAllString(outputs[reports.HTMLFile], "base64,…")
			outputs[reports.CucumberFile] = stripEmbeddings(t, outputs[reports.CucumberFile])

			if tc.reveal {
				for _, f := range []string{reports.JSONFile, reports.HTMLFile} {
					if !strings.Contains(outputs[f], "Dupont") {
						t.Errorf("revealed %s lacks the participant's last name", f)
					}
				}
				return
			}
			for name, out := range outputs {
				if m := jwtShaped.FindString(out); m != "" {
					t.Errorf("%s contains a JWT or JWT segment: %.24s…", name, m)
				}
				for _, v := range demoParticipant {
					if strings.Contains(out, v) {
						t.Errorf("%s contains the participant value %q", name, v)
					}
				}
			}
			if !strings.Contains(outputs[reports.JSONFile], `"fingerprint": "hmac:`) {
				t.Error("report.json has no token fingerprint: was a token seen at all?")
			}
		})
	}
}

// stripEmbeddings blanks the base64 data of cucumber.json's embeddings.
func stripEmbeddings(t *testing.T, s string) string {
	t.Helper()
	var features []reports.CucumberFeature
	if err := json.Unmarshal([]byte(s), &features); err != nil {
		t.Fatalf("cucumber.json: %v", err)
	}
	for i := range features {
		for j := range features[i].Elements {
			el := &features[i].Elements[j]
			for k := range el.Steps {
				for m := range el.Steps[k].Embeddings {
					el.Steps[k].Embeddings[m].Data = ""
				}
			}
			for k := range el.After {
				for m := range el.After[k].Embeddings {
					el.After[k].Embeddings[m].Data = ""
				}
			}
		}
	}
	b, err := json.Marshal(features)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDevRealRun is a developer aid, skipped unless REAL_RUN_DIR is set: it
// certifies the demo variant REAL_RUN_VARIANT (default token-late) and
// writes every report into REAL_RUN_DIR, to look at a real failure.
func TestDevRealRun(t *testing.T) {
	dir := os.Getenv("REAL_RUN_DIR")
	if dir == "" {
		t.Skip("REAL_RUN_DIR not set")
	}
	variant := os.Getenv("REAL_RUN_VARIANT")
	if variant == "" {
		variant = "token-late"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	p, err := srv.Profile(variant)
	if err != nil {
		t.Fatal(err)
	}
	r, err := steps.Run(ctx, steps.Config{Profile: p, ReportDir: dir, Browser: harness.Options{BrowserBin: "/usr/bin/chromium"}, ToolVersion: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	r.Finalize()
	if _, err := reports.WriteAll(dir, r, reports.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	reports.WriteSummary(os.Stdout, r, filepath.Join(dir, reports.HTMLFile))
}
