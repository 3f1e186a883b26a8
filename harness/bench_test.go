package harness

import (
	"context"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/kit"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// BenchmarkRun compares a harness Run of a good page (incognito context,
// recorder, interception, verification, settling, screenshots, judgement)
// with a bare navigation of the same page in the same browser (incognito
// context, the same interception, until the load event, context closed).
// The interleaved sub-benchmark alternates the two in each iteration, so
// that both see the same machine load, and reports their ratio:
//
//	go test -run '^$' -bench BenchmarkRun -benchtime 20x -count 3 ./harness/
func BenchmarkRun(b *testing.B) {
	f := newFixture(b)
	u := f.page("/bench", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	ctx := context.Background()

	b.Run("harness", func(b *testing.B) {
		for b.Loop() {
			benchHarness(b, ctx, p)
		}
	})
	b.Run("bare_navigation", func(b *testing.B) {
		ks := kit.New(kit.Config{Profile: p, Timeline: timeline.New()})
		for b.Loop() {
			benchBare(b, ctx, ks, u)
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		ks := kit.New(kit.Config{Profile: p, Timeline: timeline.New()})
		var inHarness, inBare time.Duration
		for b.Loop() {
			t0 := time.Now()
			benchHarness(b, ctx, p)
			t1 := time.Now()
			benchBare(b, ctx, ks, u)
			inHarness, inBare = inHarness+t1.Sub(t0), inBare+time.Since(t1)
		}
		n := float64(b.N)
		b.ReportMetric(float64(inHarness.Milliseconds())/n, "harness-ms/op")
		b.ReportMetric(float64(inBare.Milliseconds())/n, "bare-ms/op")
		b.ReportMetric(float64(inHarness)/float64(inBare), "harness/bare")
	})
}

// benchHarness is one harness Run of the good page.
func benchHarness(b *testing.B, ctx context.Context, p *profile.Profile) {
	res, err := shared.Run(ctx, Scenario{Name: "bench", Profile: p})
	if err != nil || codes(res) != nil {
		b.Fatalf("run: %v %v", err, codes(res))
	}
}

// benchBare is one bare navigation: a session with the kit's interception,
// the page until its load event, the session closed.
func benchBare(b *testing.B, ctx context.Context, ks *kit.Server, u string) {
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
