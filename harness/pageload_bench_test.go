package harness

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/kit"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

// BenchmarkPageLoad compares, for each page load of the demo certification
// (`make demo`: the good variant logged in, logged out, with the two
// injected faults, and on a slow phone), a harness Run of the demo page with
// a bare navigation of the same page in the same browser: a plain tab (its
// own incognito context, the profile's cookies, the same throttling), the
// reference kit and campaign answered (interception, the kit's scripts, the
// verifier), timed until the campaign's first outcome (form prefilled or
// blocked), its context closed in the background as a Run's is.
//
// bare and harness time each alone; ratio alternates them in each iteration,
// so that both see the same machine load, and reports harness/bare (the
// target is ≤ 1.3), the Run's phases (setup, flow, evidence, judge, ms/op)
// and the process's peak RSS (VmHWM, the harness without Chromium):
//
//	go test -run '^$' -bench 'BenchmarkPageLoad/.*/ratio' -benchtime 10x ./harness/
//	go test -run '^$' -bench 'BenchmarkPageLoad/logged-in/harness' -benchtime 20x -cpuprofile cpu.out ./harness/
func BenchmarkPageLoad(b *testing.B) {
	ctx := context.Background()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	p, err := srv.Profile("jws-inline")
	if err != nil {
		b.Fatal(err)
	}
	v, err := verify.New(ctx, verify.ConfigFromProfile(p))
	if err != nil {
		b.Fatal(err)
	}
	verifyFn := func(ctx context.Context, req kit.VerifyRequest) *verify.Result {
		return v.Verify(ctx, req.Token, verify.Options{CampaignID: req.CampaignID, Campaign: req.Div})
	}
	// The page loads of the demo certification (steps: one per distinct
	// set of conditions of the built-in suite).
	loads := []struct {
		name string
		sc   Scenario
	}{
		{"logged-in", Scenario{Profile: p}},
		{"logged-out", Scenario{Profile: p, LoggedOut: true}},
		{"fault-expired", Scenario{Profile: p, Fault: finding.TokenExpired}},
		{"fault-signature", Scenario{Profile: p, Fault: finding.TokenSignatureInvalid}},
		{"throttled", Scenario{Profile: p, Throttle: &SlowPhone}},
	}
	var closing sync.WaitGroup
	defer closing.Wait()
	for _, l := range loads {
		sc := l.sc
		sc.Name = "bench " + l.name
		b.Run(l.name, func(b *testing.B) {
			b.Run("bare", func(b *testing.B) {
				for b.Loop() {
					bareLoad(b, ctx, sc, verifyFn, &closing)
				}
				reportRSS(b)
			})
			b.Run("harness", func(b *testing.B) {
				var ph Phases
				for b.Loop() {
					ph = addPhases(ph, harnessLoad(b, ctx, sc))
				}
				reportPhases(b, ph)
				reportRSS(b)
			})
			b.Run("ratio", func(b *testing.B) {
				var inHarness, inBare time.Duration
				var ph Phases
				for b.Loop() {
					t0 := time.Now()
					ph = addPhases(ph, harnessLoad(b, ctx, sc))
					t1 := time.Now()
					bareLoad(b, ctx, sc, verifyFn, &closing)
					inHarness, inBare = inHarness+t1.Sub(t0), inBare+time.Since(t1)
				}
				n := float64(b.N)
				b.ReportMetric(float64(inHarness.Milliseconds())/n, "harness-ms/op")
				b.ReportMetric(float64(inBare.Milliseconds())/n, "bare-ms/op")
				b.ReportMetric(float64(inHarness)/float64(inBare), "harness/bare")
				reportPhases(b, ph)
				reportRSS(b)
			})
		})
	}
}

// harnessLoad is one harness Run of the scenario; it must pass.
func harnessLoad(b *testing.B, ctx context.Context, sc Scenario) Phases {
	res, err := shared.Run(ctx, sc)
	if err != nil {
		b.Fatalf("run %s: %v", sc.Name, err)
	}
	if finding.HasMust(res.Findings) {
		b.Fatalf("run %s: must findings %v", sc.Name, codes(res))
	}
	return res.Phases
}

// bareLoad is one bare navigation of the scenario's page: a tab with the
// kit and campaign answered, until the campaign's first outcome.
func bareLoad(b *testing.B, ctx context.Context, sc Scenario, verifyFn kit.VerifyFunc, closing *sync.WaitGroup) {
	p := sc.Profile
	rec := timeline.New()
	events, unsubscribe := rec.Subscribe()
	defer unsubscribe()
	ks := kit.New(kit.Config{Profile: p, Verify: verifyFn, Timeline: rec, Fault: sc.Fault})
	var hosts []string
	for _, c := range p.Campaigns {
		hosts = append(hosts, c.Host)
	}
	cfg := browser.SessionConfig{
		Intercept: ks.Patterns(), Handler: ks,
		Binding: observe.Binding, World: observe.World,
		WorldScripts: []string{observe.RecorderJS(hosts...)},
		Scripts:      []string{observe.PageJS(hosts...)},
	}
	if !sc.LoggedOut {
		for _, c := range p.Page.Cookies {
			cfg.Cookies = append(cfg.Cookies, cookieParam(c, p.Page.URL))
		}
	}
	s, err := shared.Browser().NewSession(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer closing.Go(func() { _ = s.Close() })
	if t := sc.Throttle; t != nil {
		if err := s.Throttle(ctx, t.CPURate, t.Latency, t.DownloadKbps, t.UploadKbps); err != nil {
			b.Fatal(err)
		}
	}
	navErr := make(chan error, 1)
	go func() { navErr <- s.Navigate(ctx, p.Page.URL) }()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case e := <-events:
			if e.Source == timeline.Campaign && (e.Event == timeline.FormPrefilled || e.Event == timeline.Blocked) {
				return
			}
		case err := <-navErr:
			if err != nil {
				b.Fatal(err)
			}
		case <-deadline:
			b.Fatalf("bare %s: no campaign outcome within 30s: %v", sc.Name, rec.Events())
		}
	}
}

func cookieParam(c profile.Cookie, pageURL string) *proto.NetworkCookieParam {
	p := &proto.NetworkCookieParam{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path}
	if c.Domain == "" {
		p.URL = pageURL
	}
	if p.Path == "" {
		p.Path = "/"
	}
	return p
}

func addPhases(a, b Phases) Phases {
	return Phases{Setup: a.Setup + b.Setup, Flow: a.Flow + b.Flow, Evidence: a.Evidence + b.Evidence, Judge: a.Judge + b.Judge}
}

func reportPhases(b *testing.B, ph Phases) {
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(ph.Setup), "setup-ms/op")
	b.ReportMetric(ms(ph.Flow), "flow-ms/op")
	b.ReportMetric(ms(ph.Evidence), "evidence-ms/op")
	b.ReportMetric(ms(ph.Judge), "judge-ms/op")
}

// reportRSS reports the process's peak resident set (VmHWM): the harness
// and the test binary, without Chromium (a process of its own).
func reportRSS(b *testing.B) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return // not Linux
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				b.ReportMetric(kb/1024, "peak-RSS-MB")
			}
		}
	}
}
