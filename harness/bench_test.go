package harness

import (
	"context"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/kit"
	"github.com/qualcert/qualcert/harness/timeline"
)

// BenchmarkRun compares a harness Run of a good page (incognito context,
// recorder, interception, verification, settling, screenshots, judgement)
// with a bare navigation of the same page in the same browser (incognito
// context, the same interception, until the load event).
func BenchmarkRun(b *testing.B) {
	f := newFixture(b)
	u := f.page("/bench", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	ctx := context.Background()

	b.Run("harness", func(b *testing.B) {
		for b.Loop() {
			res, err := shared.Run(ctx, Scenario{Name: "bench", Profile: p})
			if err != nil || codes(res) != nil {
				b.Fatalf("run: %v %v", err, codes(res))
			}
		}
	})
	b.Run("bare_navigation", func(b *testing.B) {
		ks := kit.New(kit.Config{Profile: p, Timeline: timeline.New()})
		for b.Loop() {
			loaded := make(chan struct{}, 1)
			s, err := shared.Browser().NewSession(ctx, browser.SessionConfig{Intercept: ks.Patterns(), Handler: ks,
				Hooks: browser.Hooks{Loaded: func() {
					select {
					case loaded <- struct{}{}:
					default:
					}
				}}})
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Navigate(ctx, u); err != nil {
				b.Fatal(err)
			}
			select {
			case <-loaded:
			case <-time.After(10 * time.Second):
				b.Fatal("no load event")
			}
			_ = s.Close()
		}
	})
}
