package steps

import (
	"context"
	"os/exec"
	"testing"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/demo"
)

// BenchmarkPageLoad compares, on the demo's good page and in one browser,
// a bare navigation (incognito tab, navigate, load event, close) with one
// harness scenario (the same, plus interception, recording, verification,
// settling and screenshots) and with the whole certification suite:
//
//	go test ./steps -run '^$' -bench PageLoad -benchtime 10x
func BenchmarkPageLoad(b *testing.B) {
	bin, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		b.Skip("no Chromium at /usr/bin/chromium")
	}
	ctx := context.Background()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	p, err := srv.Profile(demoGood)
	if err != nil {
		b.Fatal(err)
	}

	b.Run("bare-navigation", func(b *testing.B) {
		br, err := browser.Launch(ctx, browser.Config{Bin: bin})
		if err != nil {
			b.Fatal(err)
		}
		defer br.Close()
		b.ResetTimer()
		for range b.N {
			s, err := br.NewSession(ctx, browser.SessionConfig{})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Navigate(ctx, p.Page.URL); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Eval(ctx, `new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`); err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
	})
	b.Run("scenario", func(b *testing.B) {
		h, err := harness.Start(ctx, harness.Options{BrowserBin: bin})
		if err != nil {
			b.Fatal(err)
		}
		defer h.Close()
		b.ResetTimer()
		for range b.N {
			if _, err := h.Run(ctx, harness.Scenario{Name: "bench", Profile: p}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("certification-suite", func(b *testing.B) {
		for range b.N {
			r, err := Run(ctx, Config{Profile: p, Concurrency: 2, Browser: harness.Options{BrowserBin: bin}})
			if err != nil {
				b.Fatal(err)
			}
			r.Finalize()
			if r.Verdict != "passed" {
				b.Fatalf("verdict %s", r.Verdict)
			}
		}
	})
}

// demoGood is the demo variant `qualcert run` certifies with no profile.
const demoGood = "jws-inline"
