// Package harness runs one certification scenario: it loads the publisher's
// real page in headless Chromium, serves the reference Qualifio kit and
// campaign in place of the real ones, records everything that crosses between
// page and iframe on a timeline, verifies each token with the reference
// verifier, and turns what it saw into findings.
//
//	h, err := harness.Start(ctx, harness.Options{BrowserBin: "/usr/bin/chromium"})
//	defer h.Close()
//	res, err := h.Run(ctx, harness.Scenario{Name: "happy path", Profile: p})
//
// One Harness (one browser) per run; each Run gets its own incognito context
// and is safe to call concurrently.
//
// How a Run works, in order (this package is the composition root: it wires
// browser, kit, observe and judge, and holds no rule of its own):
//
//  1. a per-Run verify function (package verify) and kit server (package kit)
//     are built from the profile; the browser session (package browser)
//     intercepts the Qualifio loader and the campaign hosts and answers them
//     with the kit server, and injects the recorder (package observe) before
//     any page script; tab set-up has its own bound;
//  2. the participant's session is set up: profile cookies in the incognito
//     context, or the scripted login (its own bounds), unless Scenario.LoggedOut;
//  3. the page is loaded, and Run waits on timeline events and deadlines (never
//     sleeps), asking judge.Settle after each, until the run has settled:
//     every campaign prefilled or blocked, the page's reaction after an error
//     seen (or its bound passed), or the kit clearly missing (the rules are
//     written down in kit/PROTOCOL.md); timing.timeout counts from here;
//  4. the campaign iframes and the page are screenshotted, and judge.Judge
//     turns the observation (timeline, per-iframe token verdicts, requests,
//     console) into Result.Campaigns and Result.Findings.
//
// A Run that reaches no verdict (browser failure, unreachable page, timeout
// with a campaign still undecided and no must finding established, Ctrl-C,
// a panic inside Run) returns its Result
// with an env.* finding and an error wrapping ErrBroken. The incognito context
// is always closed (disposed of in the background after Run returned; Close
// waits for it), and Close leaves no Chromium process and no temporary
// profile behind.
//
// The page under test cannot reach what decides its verdict: the recorder and
// the reference kit's bookkeeping run in an isolated world with their own
// clock and the only binding to Go; the page's world keeps a shim that relays
// the _qual_async commands (kit/PROTOCOL.md, "Observed from outside the
// page's reach").
//
// Privacy: raw tokens travel from the page to Go (a CDP binding) and are
// replaced by finding.Fingerprint before anything reaches the timeline;
// participant values are masked in the campaign form unless Options.Reveal.
package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/chromedp/cdproto/har"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/judge"
	"github.com/qualcert/qualcert/harness/kit"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

// Options configure the browser of a run.
type Options struct {
	BrowserBin string // Chromium binary; "" = found on PATH (chromium, chromium-browser, google-chrome)
	BrowserURL string // a remote DevTools endpoint (ws://… or http://host:port) instead of launching
	LiveKit    bool   // observe mode: no interception, the real Qualifio kit is used
	Reveal     bool   // screenshots and events may show participant values
	// Confine are more hosts a launched browser never resolves (the
	// profile's campaign hosts: see ConfineTo); Reach are hosts it always
	// may (the page's own, should it be on a Qualifio domain).
	Confine, Reach []string

	// PerLoad opens one BrowserURL connection per page load, for endpoints
	// that start a browser per connection (detected when not set).
	PerLoad bool
	// Grid is a Selenium Grid 4 (http://host:4444): each page load runs in
	// a grid session of its own.
	Grid string
	// GridNoSandbox starts the grid nodes' Chromium without its sandbox
	// (nodes that run it as root).
	GridNoSandbox bool
	// HAR records each page load's requests, with their bodies, as a HAR
	// 1.2 log (Result.HAR; raw values: redact before writing).
	HAR bool
	// Replay answers every request of the page from this capture (run
	// --replay), the Qualifio side being the reference kit as always;
	// requests the capture lacks are answered 404 (env.replay_missing).
	Replay *har.HAR
	// Resolver resolves the hosts of the profile's key source (jwks_url)
	// and user-info webservice; nil = the system's resolver. Tests give
	// one that never leaves the process (package dnstest).
	Resolver *net.Resolver
}

// qualifioHosts are Qualifio's domains: a launched browser never resolves
// them unless LiveKit, so that nothing of Qualifio's is fetched for real
// (the interception answers before any name resolution).
var qualifioHosts = []string{"qualifio.com", "*.qualifio.com", "qualifioapp.com", "*.qualifioapp.com"}

// ConfineTo returns opt with the hosts of profile p to confine (its
// campaign hosts) and to reach (its page and login hosts).
func ConfineTo(opt Options, p *profile.Profile) Options {
	if p == nil {
		return opt
	}
	host := func(h string) string {
		if hh, _, err := net.SplitHostPort(h); err == nil {
			return hh
		}
		return h
	}
	for _, c := range p.Campaigns {
		opt.Confine = append(opt.Confine, host(c.Host))
	}
	for _, u := range []string{p.Page.URL, loginURL(p)} {
		if h := hostOf(u); h != "" {
			opt.Reach = append(opt.Reach, h)
		}
	}
	return opt
}

func loginURL(p *profile.Profile) string {
	if p.Page.Login == nil {
		return ""
	}
	return p.Page.Login.URL
}

// Throttle emulates a slow device: CPU slowdown and network conditions.
type Throttle struct {
	CPURate      float64       // 4 = four times slower
	Latency      time.Duration // added round-trip latency
	DownloadKbps float64
	UploadKbps   float64
}

// SlowPhone is the throttle of the race scenarios: a mid-range phone on a
// slow 3G network (Lighthouse's mobile preset).
var SlowPhone = Throttle{CPURate: 4, Latency: 400 * time.Millisecond, DownloadKbps: 400, UploadKbps: 400}

// Scenario is one page load to observe.
type Scenario struct {
	Name      string
	Profile   *profile.Profile
	Fault     finding.Code  // when set, the campaign reports this error whatever the token
	Throttle  *Throttle     // nil: no emulation
	LoggedOut bool          // skip the profile's cookies and login
	Observe   time.Duration // how long to keep watching after the last campaign settled (page reactions); 0 = default
	// At judges the time claims (exp, nbf, iat) of every token the page
	// hands over as of this instant instead of now (zero: now): a capture
	// judged as of when it was made (run --at, --replay).
	At time.Time

	// slow, set by tests only, delays parts of the run as a loaded
	// machine does.
	slow *slowness
	// masked, set by tests only, is called once the page was masked for
	// its screenshot (or not, revealing), before the captures: tests read
	// the frames back through the session.
	masked func(context.Context, *browser.Session)
}

// slowness is a loaded machine's delays, reproduced by tests.
type slowness struct {
	// delivery is called with each of the recorder's binding payloads
	// before it is decoded, in the session's one event handler: delaying
	// one delays everything after it, as a late delivery does.
	delivery func(payload string)
	// kit is called with each request the reference kit answers, before
	// it answers (a campaign iframe that takes seconds to load).
	kit func(*http.Request)
}

// Screenshot is evidence captured at the end of a flow.
type Screenshot struct {
	Name     string // "page.png", "campaign-<div>.png"
	Campaign string
	PNG      []byte
}

// Outcome of a campaign's flow as the reference campaign saw it (decided
// by package judge).
const (
	OutcomePrefilled = judge.OutcomePrefilled
	OutcomeBlocked   = judge.OutcomeBlocked
	OutcomeNone      = judge.OutcomeNone // the campaign never got to ask (no iframe)
)

// Campaign is what happened to one campaign of the profile.
type Campaign struct {
	DivID         string         `json:"div_id"`
	Created       bool           `json:"created"`
	Host          string         `json:"host,omitempty"`          // host given to createIframe
	SetMetaDataMs float64        `json:"set_metadata_ms"`         // first setMetaData for the div, -1 if none
	GetMetaDataMs float64        `json:"get_metadata_ms"`         // the campaign's getMetaData, -1 if none
	MarginMs      float64        `json:"margin_ms"`               // get − set; negative when late
	Outcome       string         `json:"outcome"`                 // prefilled, blocked, none
	ErrorCode     string         `json:"error_code,omitempty"`    // code in the error message to the parent
	PageReaction  string         `json:"page_reaction,omitempty"` // setMetaData, navigation, dialog, dom (content shown); "" when none
	Token         *verify.Result `json:"token,omitempty"`         // the verifier's result on the token received
}

// Result is everything one scenario produced.
type Result struct {
	Timeline    []timeline.Event
	Findings    []finding.Finding
	Campaigns   []Campaign
	Screenshots []Screenshot
	Duration    time.Duration
	// Assumptions are what the reference side assumed about the real
	// Qualifio kit and campaign in this run, with the values used, and the
	// verdicts that rest on each (PROTOCOL.md, "Assumptions").
	Assumptions []Assumption
	// Phases is where the Run's time went (benchmarks and profiling).
	Phases Phases
	// HAR is the page load's requests (Options.HAR), raw: nil otherwise.
	HAR *har.HAR
}

// ErrBroken wraps every error of Run that means no verdict could be reached
// (browser failure, page unreachable, timeout); the Result still carries the
// env.* finding and the timeline so far.
var ErrBroken = errors.New("no verdict")

// Harness owns the browser of a run.
type Harness struct {
	b   *browser.Browser
	opt Options

	// closing tracks the scenarios' contexts being disposed of after their
	// Run returned; Close waits for them before closing the browser.
	closing   sync.WaitGroup
	closeMu   sync.Mutex
	closeErrs []error
}

// Start launches (or connects to) the browser. A browser that cannot start
// is an error wrapping ErrBroken (finding env.browser).
func Start(ctx context.Context, opt Options) (*Harness, error) {
	cfg := browser.Config{Bin: opt.BrowserBin, URL: opt.BrowserURL, PerLoad: opt.PerLoad, Grid: opt.Grid, GridNoSandbox: opt.GridNoSandbox, AllowHosts: opt.Reach}
	if !opt.LiveKit {
		cfg.BlockHosts = append(append(cfg.BlockHosts, qualifioHosts...), opt.Confine...)
	}
	b, err := browser.Launch(ctx, cfg)
	if err != nil {
		return nil, &brokenError{code: finding.EnvBrowser, err: err}
	}
	return &Harness{b: b, opt: opt}, nil
}

// Browser exposes the harness's browser (tests count its processes).
func (h *Harness) Browser() *browser.Browser { return h.b }

// Close waits for the scenarios' contexts still being disposed of, then
// shuts the browser down and removes its temporary profile. It returns the
// errors of both.
func (h *Harness) Close() error {
	if h == nil || h.b == nil {
		return nil
	}
	h.closing.Wait()
	h.closeMu.Lock()
	errs := h.closeErrs
	h.closeErrs = nil
	h.closeMu.Unlock()
	return errors.Join(append(errs, h.b.Close())...)
}

// dispose closes a scenario's session in the background: the Result does
// not wait for the browser to tear the context and its renderer down.
// Close waits for it, so no context outlives the Harness.
func (h *Harness) dispose(s *browser.Session, scenario string) {
	h.closing.Go(func() {
		if err := s.Close(); err != nil {
			h.closeMu.Lock()
			h.closeErrs = append(h.closeErrs, fmt.Errorf("scenario %q: %w", scenario, err))
			h.closeMu.Unlock()
		}
	})
}

// Run observes one scenario: it opens an incognito context, sets the
// participant's session, loads the page with the reference kit and campaign
// in place of Qualifio's, waits until every campaign of the profile settled
// (plus the reaction window after an error) or the kit is clearly missing,
// captures the evidence and judges. It always closes its context, also
// after a timeout or a panic: in the background once the Result is ready
// (Close waits for every context to be gone). The Result is returned also
// with an error; errors that mean "no verdict" wrap ErrBroken.
func (h *Harness) Run(ctx context.Context, sc Scenario) (res *Result, err error) {
	begin := time.Now()
	res = &Result{}
	if sc.Profile == nil {
		return nil, errors.New("harness: scenario has no profile")
	}
	r := &run{h: h, sc: sc, rec: timeline.New(), tokens: map[string]string{}, tokenDiv: map[string]string{},
		results: map[string]*verify.Result{}, wake: make(chan struct{}, 1)}
	noteProfileSecrets(sc.Profile)
	defer func() {
		if p := recover(); p != nil {
			res, err = r.broken(res, finding.EnvBrowser, fmt.Errorf("harness panic: %v", p))
		}
		if r.ses != nil {
			h.dispose(r.ses, sc.Name)
		}
		res.Duration = time.Since(begin)
	}()
	return r.execute(ctx, res)
}

func (r *run) execute(ctx context.Context, res *Result) (*Result, error) {
	sc, p := r.sc, r.sc.Profile
	timeout := p.Timing.Timeout.D()
	if timeout <= 0 {
		timeout = profile.DefaultScenarioTimeout
	}
	res.Assumptions = Assumptions(p)
	// An interruption (Ctrl-C, the caller's deadline) is not a timeout of
	// the page: it is reported as such wherever it strikes.
	interrupted := func(err error) (*Result, error) {
		return r.broken(res, finding.EnvInterrupted, fmt.Errorf("the run was interrupted before a verdict (%v): %w", context.Cause(ctx), err))
	}

	// Tab set-up and login have bounds of their own: the scenario's
	// timeout counts from navigation, so that a loaded machine opening
	// tabs slowly does not eat the page's time.
	setup, cancelSetup := context.WithTimeout(ctx, sessionTimeout)
	defer cancelSetup()
	verifyFn, err := r.verifier(setup)
	if err != nil {
		var ks *keySourceError
		if ctx.Err() != nil {
			// Ctrl-C while the key source was read: the user's, not the
			// publisher's JWKS URL's.
			return interrupted(err)
		}
		if errors.As(err, &ks) {
			// A key source that cannot be read leaves no token judgeable: no
			// verdict (env.key_source), rather than every token called invalid.
			return r.broken(res, finding.EnvKeySource, ks.err)
		}
		return res, err
	}
	r.kit = kit.New(kit.Config{Profile: p, Verify: verifyFn, Timeline: r.rec, Fault: sc.Fault, Reveal: r.h.opt.Reveal})
	cfg := browser.SessionConfig{
		Binding:      observe.Binding,
		World:        observe.World,
		WorldScripts: []string{observe.RecorderJS(r.campaignHosts()...)},
		Scripts:      []string{observe.PageJS(r.campaignHosts()...)},
		Cookies:      r.cookies(),
		Hooks:        r.hooks(),
		HAR:          r.h.opt.HAR,
		HARSkip:      kit.Internal,
	}
	if !r.h.opt.LiveKit {
		cfg.Intercept = r.kit.Patterns()
		cfg.Handler = r.kit
		if sl := r.sc.slow; sl != nil && sl.kit != nil {
			cfg.Handler = http.HandlerFunc(func(w http.ResponseWriter, q *http.Request) { sl.kit(q); r.kit.ServeHTTP(w, q) })
		}
	}
	if r.h.opt.Replay != nil {
		r.replay = newReplayer(r.kit, r, r.h.opt.Replay)
		cfg.Intercept, cfg.Handler = []string{"*"}, r.replay
	}
	events, unsubscribe := r.rec.Subscribe()
	defer unsubscribe()
	// A browser of the page load's own (a grid session, a pool's browser)
	// is acquired without the set-up's bound: the grid may queue the
	// session for a free slot and then start a Chromium, which is no fault
	// of the page (the grid's own timeouts apply; Ctrl-C still ends it).
	acquire := setup
	if r.h.b.PerLoad() {
		acquire = ctx
	}
	for attempt := 1; ; attempt++ {
		r.ses, err = r.h.b.NewSession(acquire, cfg)
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || acquire.Err() != nil || attempt == maxTabAttempts {
			break
		}
		// A CDP call of the set-up ran out of its own bound (a loaded
		// machine): try again within the set-up's bound before calling the
		// run broken. NewSession leaves nothing behind when it fails.
		r.rec.Add(timeline.Harness, timeline.HarnessError, "", map[string]any{"error": fmt.Sprintf("opening a tab, attempt %d: %v", attempt, err)})
	}
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		err = fmt.Errorf("the browser did not open a tab in time, %d attempts within %s (the machine is overloaded or the browser hangs): %w", maxTabAttempts, sessionTimeout, err)
	}
	if err != nil {
		switch {
		case ctx.Err() != nil:
			return interrupted(err)
		case acquire.Err() != nil:
			return r.broken(res, finding.EnvTimeout, fmt.Errorf("opening a tab took over %s: %w", sessionTimeout, err))
		}
		return r.broken(res, finding.EnvBrowser, err)
	}
	if testHook != nil {
		testHook(sc)
	}
	if sc.Fault != "" {
		observe.Record(r.rec, -1, timeline.Harness, timeline.FaultInjected, "", observe.FaultData{Code: string(sc.Fault)})
	}
	if t := sc.Throttle; t != nil {
		if err := r.ses.Throttle(setup, t.CPURate, t.Latency, t.DownloadKbps, t.UploadKbps); err != nil {
			if ctx.Err() != nil {
				return interrupted(err)
			}
			return r.broken(res, finding.EnvBrowser, err)
		}
		observe.Record(r.rec, -1, timeline.Harness, timeline.ThrottleApplied, "", observe.ThrottleData{
			CPURate: t.CPURate, LatencyMs: t.Latency.Milliseconds(), DownloadKbps: t.DownloadKbps, UploadKbps: t.UploadKbps})
	}
	lctx, cancelLogin := context.WithTimeout(ctx, loginTimeout)
	err = r.login(lctx)
	cancelLogin()
	if err != nil {
		var le *loginError
		switch {
		case ctx.Err() != nil:
			return interrupted(err)
		case isUnreachable(err):
			return r.broken(res, finding.EnvPageUnreachable, err)
		case errors.As(err, &le):
			return r.broken(res, finding.EnvLoginFailed, err)
		case lctx.Err() != nil:
			return r.broken(res, finding.EnvLoginFailed, fmt.Errorf("the scripted login did not complete within %s: %w", loginTimeout, err))
		}
		return r.broken(res, finding.EnvBrowser, err)
	}

	// The scenario's clock starts here.
	res.Phases.Setup = time.Since(r.rec.Start())
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r.navStart = r.rec.Now()
	state := func() judge.Observation { return r.observation(r.rec.Events()) }
	clock := func() judge.Clock {
		r.mu.Lock()
		defer r.mu.Unlock()
		return judge.Clock{NowMs: r.rec.Now(), Inflight: r.inflight, LastNetMs: r.lastNetAt, Verifying: r.verifying}
	}
	observe.Record(r.rec, -1, timeline.Browser, timeline.Navigation, "", observe.NavigationData{URL: r.redactText(p.Page.URL), Phase: "start"})

	// Navigate in the background: a page that never answers must not stop
	// the settle loop from seeing the deadline.
	// Its context outlives the deadline by the grace period: a grace must
	// not cut the navigation it waits for.
	navCtx, cancelNav := context.WithTimeout(ctx, 2*timeout)
	defer cancelNav()
	navDone := make(chan error, 1)
	go func() { navDone <- r.ses.Navigate(navCtx, p.Page.URL) }()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	scrolledAt := -1.0 // the load after which the page was scrolled through
	divs := make([]string, 0, len(p.Campaigns))
	for _, c := range p.Campaigns {
		divs = append(divs, c.DivID)
	}
	// The reader scrolls until the run stops it (also during a grace period).
	sctx, stopScroll := context.WithCancel(ctx)
	stopScrolling := func() { stopScroll(); r.scrolling.Wait() }
	defer stopScrolling()
	// The deadline: the scenario's timeout, then at most one grace period
	// of the same length while a campaign's flow is visibly progressing
	// (judge.Progressing: a page slowed by a loaded machine, not a stuck one).
	deadline := rctx.Done()
	var grace <-chan time.Time
	for {
		select {
		case err := <-navDone:
			navDone = nil
			if err != nil {
				if isUnreachable(err) {
					return r.broken(res, finding.EnvPageUnreachable, err)
				}
				if navCtx.Err() == nil {
					return r.broken(res, finding.EnvBrowser, err)
				}
			}
		case <-events:
		case <-r.wake:
		case <-timer.C:
		case <-deadline:
			if ctx.Err() != nil {
				return interrupted(ctx.Err())
			}
			o := state()
			if ok, _ := judge.AtDeadline(o, r.rec.Now()); !ok && judge.Progressing(o, r.rec.Now()) {
				deadline = nil
				g := time.NewTimer(timeout)
				defer g.Stop()
				grace = g.C
				r.rec.Add(timeline.Harness, timeline.Timeout, "", map[string]any{"grace": timeout.String(),
					"why": "a campaign's flow was still progressing at the scenario timeout"})
				continue
			}
			stopScrolling()
			return r.atDeadline(res, fmt.Sprintf("the scenario timeout of %s (counted from navigation)", timeout))
		case <-grace:
			stopScrolling()
			return r.atDeadline(res, fmt.Sprintf("the scenario timeout of %s (counted from navigation) and its grace period of as much, granted because a campaign was still progressing", timeout))
		case <-ctx.Done():
			return interrupted(ctx.Err())
		}
		// Drain what is queued before deciding.
		for drained := false; !drained; {
			select {
			case <-events:
			default:
				drained = true
			}
		}
		// The settle state is rebuilt from the whole timeline at each
		// decision: the subscription only wakes the loop up, so an event a
		// slow subscriber missed is still counted.
		k := clock()
		o := state()
		// An answer that is no page (204, a download, a PDF) ends the run
		// at once: there is nothing to wait for.
		if code, why := judge.Broken(o); code != "" {
			stopScrolling()
			return r.broken(res, code, errors.New(why))
		}
		st := judge.Settle(o, k)
		loads := timeline.Find(r.rec.Events(), timeline.PageLoaded, "")
		loaded := len(loads) > 0
		if loaded && loads[len(loads)-1].TMs >= r.navStart && loads[len(loads)-1].TMs != scrolledAt {
			scrolledAt = loads[len(loads)-1].TMs
			r.scrollThrough(sctx, divs)
		}
		if st.Done && (navDone == nil || loaded) {
			// Decide on a complete past: events stamped before now may
			// still be on their way (browser.Session.Sync); once they are
			// in, the decision is taken again.
			r.sync(rctx)
			k, o = clock(), state()
			st = judge.Settle(o, k)
			if st.Done {
				stopScrolling()
				return r.finish(res)
			}
		}
		wake := st.Wake
		if st.Done {
			wake = k.NowMs + 50 // committed soon: wait for the navigation call to return
		}
		if wake >= 0 {
			d := time.Duration((wake - r.rec.Now()) * float64(time.Millisecond))
			if d < time.Millisecond {
				d = time.Millisecond
			}
			timer.Reset(d)
		}
	}
}

// syncTimeout bounds the wait for the events on their way when a run
// looks settled (run.sync): a page whose main thread never yields cannot
// answer, and is judged on what arrived.
const syncTimeout = 3 * time.Second

// sync waits until every event the page's top frame and its
// out-of-process iframes sent so far has reached the recorder
// (browser.Session.Sync). The wait is on the
// timeline (timeline.Synced), with how many events arrived meanwhile.
func (r *run) sync(ctx context.Context) {
	before := r.rec.Added()
	start := r.rec.Now()
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	err := r.ses.Sync(ctx)
	arrived := r.rec.Added() - before
	data := map[string]any{"ms": r.rec.Now() - start, "arrived": arrived}
	if err != nil {
		data["error"] = r.redactText(err.Error())
	}
	r.rec.Add(timeline.Harness, timeline.Synced, "", data)
}

// atDeadline ends a run whose scenario timeout struck: a verdict if enough
// was seen (judge.AtDeadline), or if a must finding is already established
// (it is reported, with the timeout as an info finding saying what was still
// pending); otherwise broken with env.timeout.
func (r *run) atDeadline(res *Result, limit string) (*Result, error) {
	ok, why := judge.AtDeadline(r.observation(r.rec.Events()), r.rec.Now())
	if ok {
		r.rec.Add(timeline.Harness, timeline.Timeout, "", map[string]any{"verdict": true})
		return r.finish(res)
	}
	// Judge what was seen: an established must finding is the verdict.
	_, fs := r.judgeQuiet(r.rec.Events())
	if established(fs) {
		r.rec.Add(timeline.Harness, timeline.Timeout, "", map[string]any{"verdict": true, "pending": why})
		res, err := r.finish(res)
		f := finding.New(finding.EnvTimeout, "%s struck while %s; the findings above were established before it", limit, why).WithLevel(finding.Info)
		f.Scenario = r.sc.Name
		res.Findings = append(res.Findings, f)
		return res, err
	}
	return r.broken(res, finding.EnvTimeout, fmt.Errorf("no verdict within %s: %s", limit, why))
}

// established reports whether fs holds a must finding that more time could
// not undo: anything but the verdicts of absence (no kit, no createIframe,
// no setMetaData yet), which a slow page may still disprove.
func established(fs []finding.Finding) bool {
	for _, f := range fs {
		if f.Level != finding.Must {
			continue
		}
		switch f.Code {
		case finding.KitMissing, finding.CampaignNotCreated, finding.SetMetaDataMissing, finding.CampaignBlocked:
			continue
		}
		return true
	}
	return false
}

// readerPause is the time the harness spends on each screenful when it
// scrolls a loaded page through as a reader would.
const readerPause = 250 * time.Millisecond

// scrollThrough scrolls the loaded page down as the participant reading it
// would, in the background, until the campaigns of divs show (the reader
// stops at the contest) or the page ends: a tag inserted when its place
// scrolls into view (an IntersectionObserver lazy loader) is inserted.
func (r *run) scrollThrough(ctx context.Context, divs []string) {
	r.scrolling.Go(func() {
		start := r.rec.Now()
		// The reader waits at a reached contest as long as a kit is given
		// to come after the load event.
		sc, err := r.ses.ScrollThrough(ctx, divs, readerPause, r.sc.Profile.Timing.KitWait.D())
		if sc.Reached == "" && err == nil {
			// Stopped: the run is over. Where the reader got still says
			// how the campaign came into view (a lazy loader's kit may
			// come, and the run end, before the reader's next look).
			if sc.Steps == 0 && len(sc.Dwelt) == 0 {
				return
			}
			sc.Reached = "stopped"
		}
		if err != nil {
			if ctx.Err() == nil {
				r.rec.Add(timeline.Harness, timeline.Scrolled, "", map[string]any{"error": r.redactText(err.Error())})
			}
			return
		}
		r.rec.Add(timeline.Harness, timeline.Scrolled, "", map[string]any{"steps": sc.Steps, "y": sc.Y, "height": sc.Height, "reached": sc.Reached, "dwelt": sc.Dwelt, "ms": r.rec.Now() - start})
	})
}

// testHook, when set (by tests only, before any Run), is called once the
// scenario's browser session is open: tests use it to panic inside Run.
var testHook func(Scenario)

// finish captures the evidence and judges.
func (r *run) finish(res *Result) (*Result, error) {
	// Judge what the page did before the harness touched it for evidence
	// (scrolling campaigns into view, masking participant values).
	t0 := time.Now()
	res.Phases.Flow = t0.Sub(r.rec.Start()) - res.Phases.Setup
	// Events reach the recorder through the DevTools connection and the
	// session's queue, stamped when they happened: on a loaded machine one
	// stamped before this point (the campaign's error message) can arrive
	// while the evidence is taken. The judgement reads every event stamped
	// before the evidence began, whenever it arrived (under make test's
	// load a fault ignored by the page passed: its error message came late).
	cut := r.rec.Now()
	r.evidence(res)
	res.HAR = r.ses.HAR()
	t1 := time.Now()
	res.Campaigns, res.Findings = r.judge(judged(r.rec.Events(), cut))
	if r.replay != nil {
		res.Findings = append(res.Findings, r.replay.findings()...)
	}
	res.Timeline = r.rec.Events()
	res.Phases.Evidence, res.Phases.Judge = t1.Sub(t0), time.Since(t1)
	return res, nil
}

// judged keeps what the judgement reads of evs (in time order): the events
// stamped at or before cutMs, and every events.dropped marker. A marker
// says that some of the page's events went unseen from then on; the leak
// check reads the page's requests as they stand at the judgement, so a
// flood that outran the session during the evidence concerns it too.
func judged(evs []timeline.Event, cutMs float64) []timeline.Event {
	n := sort.Search(len(evs), func(i int) bool { return evs[i].TMs > cutMs })
	out := evs[:n:n]
	for _, e := range evs[n:] {
		if e.Event == timeline.EventsDropped {
			out = append(out, e)
		}
	}
	return out
}

// judgeQuiet judges without recording the judgement's notes (a look at the
// verdict before deciding how a run ends).
func (r *run) judgeQuiet(evs []timeline.Event) ([]judge.Campaign, []finding.Finding) {
	v := judge.Judge(r.withEvidence(r.observation(evs)))
	return v.Campaigns, v.Findings
}

// evidence screenshots each created campaign iframe and the page: one
// round of concurrent captures when the iframes fit in the viewport.
func (r *run) evidence(res *Result) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*evidenceTimeout)
	defer cancel()
	events := r.rec.Events()
	var divs, selectors []string
	for _, c := range r.sc.Profile.Campaigns {
		if _, ok := timeline.First(events, timeline.CreateIframe, c.DivID); !ok {
			continue
		}
		// The live iframe: the kit marks the one it created last for a div;
		// a remounted div's old iframe is gone with it.
		divs = append(divs, c.DivID)
		selectors = append(selectors, `iframe[data-qualcert-campaign="`+cssEscape(c.DivID)+`"]`)
	}
	r.maskPage(ctx)
	if r.sc.masked != nil {
		r.sc.masked(ctx, r.ses)
	}
	elements, page := r.ses.Evidence(ctx, evidenceTimeout, selectors)
	for i, div := range divs {
		if err := elements[i].Err; err != nil {
			r.rec.Add(timeline.Harness, timeline.Screenshot, div, map[string]any{"error": err.Error()})
			continue
		}
		name := "campaign-" + div + ".png"
		res.Screenshots = append(res.Screenshots, Screenshot{Name: name, Campaign: div, PNG: elements[i].PNG})
		data := map[string]any{"name": name, "bytes": len(elements[i].PNG)}
		if elements[i].Blank {
			data["blank"] = true // one colour, also after the page painted again: the campaign showed nothing
		}
		r.rec.Add(timeline.Harness, timeline.Screenshot, div, data)
	}
	if page.Err != nil {
		r.rec.Add(timeline.Harness, timeline.Screenshot, "", map[string]any{"error": page.Err.Error()})
		return
	}
	res.Screenshots = append(res.Screenshots, Screenshot{Name: "page.png", PNG: page.PNG})
	r.rec.Add(timeline.Harness, timeline.Screenshot, "", map[string]any{"name": "page.png", "bytes": len(page.PNG)})
}

// maskScript replaces, in one frame's text and form fields, every
// participant value the tokens carried by "•••" (whole words), so that
// page.png shows no more of the participant than the masked campaign form
// does (the text of scripts and styles, never shown, is left alone). It
// marks the frame's document first, so that the recorder does not
// take the harness's own edits for a page reaction. It returns how many
// places it masked. maskPage runs it in every frame of the page.
const maskScript = `(function (values) {
  document.documentElement.setAttribute('data-qualcert-evidence', '');
  if (!values.length || !document.body) return 0;
  var esc = function (s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); };
  var re = new RegExp('(?<![\\p{L}\\p{N}])(?:' + values.map(esc).join('|') + ')(?![\\p{L}\\p{N}])', 'gu');
  var n = 0, node, w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  var mask = function (s) { return s.replace(re, function () { n++; return '•••'; }); };
  var hidden = {SCRIPT: 1, STYLE: 1, NOSCRIPT: 1, TEMPLATE: 1};
  while ((node = w.nextNode())) {
    if (node.parentNode && hidden[node.parentNode.nodeName]) continue;
    var m = mask(node.data); if (m !== node.data) node.data = m;
  }
  document.querySelectorAll('input, textarea').forEach(function (el) {
    if (el.value) { var m = mask(el.value); if (m !== el.value) el.value = m; }
  });
  return n;
})(%s)`

// maskPage runs maskScript, unless the run reveals values, in every frame
// of the page that page.png shows: the top document, the iframes in its
// renderer whatever their origin (a publisher's widget greeting the
// participant), and the out-of-process iframes through their own targets
// (browser.Session.EvalFrames). The evidence.masked event says how many
// places were masked ("masked", as before), in how many frames
// ("frames": reached; "frames_masked": where a value was found), and each
// frame that could not be masked ("unmasked": its origin and why, with an
// "error" summing them up): a frame left unmasked is said, never skipped.
func (r *run) maskPage(ctx context.Context) {
	if r.h.opt.Reveal {
		return
	}
	values := r.participantValues()
	if len(values) == 0 {
		return
	}
	b, err := json.Marshal(values)
	if err != nil {
		r.rec.Add(timeline.Harness, timeline.EvidenceMasked, "", map[string]any{"error": "encoding the values to mask: " + err.Error()})
		return
	}
	// A budget of its own: a page of many frames (ad slots) must not eat
	// the captures' time; a frame it leaves unreached is said.
	mctx, cancel := context.WithTimeout(ctx, evidenceTimeout)
	defer cancel()
	frames := r.ses.EvalFrames(mctx, fmt.Sprintf(maskScript, b))
	r.rec.Add(timeline.Harness, timeline.EvidenceMasked, "", maskedData(frames))
}

// maskedData is the evidence.masked event's data for maskScript's results
// in each frame (see maskPage).
func maskedData(frames []browser.FrameEval) map[string]any {
	total, reached, withValues := 0, 0, 0
	var unmasked []map[string]any
	var why []string
	for _, f := range frames {
		n, err := maskedCount(f)
		if err != nil {
			origin := f.Origin
			if origin == "" {
				origin = "(unknown origin)"
			}
			unmasked = append(unmasked, map[string]any{"origin": origin, "out_of_process": f.OutOfProcess, "error": err.Error()})
			why = append(why, origin+": "+err.Error())
			continue
		}
		reached++
		total += n
		if n > 0 {
			withValues++
		}
	}
	data := map[string]any{"masked": strconv.Itoa(total), "frames": reached, "frames_masked": withValues}
	if len(unmasked) > 0 {
		data["unmasked"] = unmasked
		data["error"] = fmt.Sprintf("%d frame(s) of the page could not be masked and may show participant values in page.png: %s", len(unmasked), strings.Join(why, "; "))
	}
	return data
}

// maskedCount reads maskScript's count in frame f.
func maskedCount(f browser.FrameEval) (int, error) {
	if f.Err != nil {
		return 0, f.Err
	}
	var n int
	if err := json.Unmarshal(f.Value, &n); err != nil {
		return 0, fmt.Errorf("reading the masked count: %w", err)
	}
	return n, nil
}

// campaignHosts are the profile's campaign hosts: the only ones the
// reference kit creates an iframe on.
func (r *run) campaignHosts() []string {
	var hosts []string
	for _, c := range r.sc.Profile.Campaigns {
		hosts = append(hosts, c.Host)
	}
	return hosts
}

// cssEscape escapes a value for a double-quoted CSS attribute selector.
func cssEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// noteProfileSecrets records the profile's session cookies and login
// values (passwords) as secrets of the run: no output may show them.
func noteProfileSecrets(p *profile.Profile) {
	for _, c := range p.Page.Cookies {
		finding.NoteSecret(c.Value)
	}
	if p.Page.Login != nil {
		for _, st := range p.Page.Login.Steps {
			if st.Fill != nil {
				if v, err := st.Fill.Resolve(); err == nil {
					finding.NoteSecret(v)
				}
			}
		}
	}
}
