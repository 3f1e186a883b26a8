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
// How a Run works, in order:
//
//  1. a per-Run verifier (package verify) and kit server (package kit) are
//     built from the profile; the browser session (package browser) intercepts
//     the Qualifio loader and the campaign hosts and answers them with the kit
//     server, and injects the recorder before any page script;
//  2. the participant's session is set up: profile cookies in the incognito
//     context, or the scripted login, unless Scenario.LoggedOut;
//  3. the page is loaded, and Run waits on timeline events and deadlines (never
//     sleeps) until the run has settled: every campaign prefilled or blocked,
//     the reaction window after an error, or the kit clearly missing
//     (settle.go; the rules are written down in kit/PROTOCOL.md);
//  4. the campaign iframes and the page are screenshotted, and judge.go turns
//     the timeline, the verifier's results and the recorded requests into
//     Result.Campaigns and Result.Findings.
//
// A Run that reaches no verdict (browser failure, unreachable page, timeout
// with a campaign still undecided, a panic inside Run) returns its Result
// with an env.* finding and an error wrapping ErrBroken. The incognito context
// is always closed (disposed of in the background after Run returned; Close
// waits for it), and Close leaves no Chromium process and no temporary
// profile behind.
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
	"strings"
	"sync"
	"time"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/kit"
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

	// PerLoad opens one BrowserURL connection per page load, for endpoints
	// that start a browser per connection (detected when not set).
	PerLoad bool
	// Grid is a Selenium Grid 4 (http://host:4444): each page load runs in
	// a grid session of its own.
	Grid string
	// GridNoSandbox starts the grid nodes' Chromium without its sandbox
	// (nodes that run it as root).
	GridNoSandbox bool
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
}

// Screenshot is evidence captured at the end of a flow.
type Screenshot struct {
	Name     string // "page.png", "campaign-<div>.png"
	Campaign string
	PNG      []byte
}

// Outcome of a campaign's flow as the reference campaign saw it.
const (
	OutcomePrefilled = "prefilled"
	OutcomeBlocked   = "blocked"
	OutcomeNone      = "none" // the campaign never got to ask (no iframe)
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
	b, err := browser.Launch(ctx, browser.Config{Bin: opt.BrowserBin, URL: opt.BrowserURL, PerLoad: opt.PerLoad, Grid: opt.Grid, GridNoSandbox: opt.GridNoSandbox})
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
	r := &run{h: h, sc: sc, rec: timeline.New(), tokens: map[string]string{}, tokenDiv: map[string]string{}, wake: make(chan struct{}, 1)}
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
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	v, err := r.verifier(rctx)
	if err != nil {
		return res, err
	}
	r.kit = kit.New(kit.Config{Profile: p, Verifier: v, Timeline: r.rec, Fault: sc.Fault, Reveal: r.h.opt.Reveal})
	cfg := browser.SessionConfig{
		Binding: kit.Binding,
		Scripts: []string{kit.RecorderJS()},
		Cookies: r.cookies(),
		Hooks:   r.hooks(),
	}
	if !r.h.opt.LiveKit {
		cfg.Intercept = r.kit.Patterns()
		cfg.Handler = r.kit
	}
	events, unsubscribe := r.rec.Subscribe()
	defer unsubscribe()
	// A browser of the page load's own (a grid session, a pool's browser)
	// is acquired outside the scenario's timeout, which starts again once
	// the tab is open: the grid may queue the session for a free slot and
	// then start a Chromium, which is no fault of the page.
	acquire := rctx
	if r.h.b.PerLoad() {
		acquire = ctx
	}
	r.ses, err = r.h.b.NewSession(acquire, cfg)
	if err != nil {
		if acquire.Err() != nil {
			return r.broken(res, finding.EnvTimeout, err)
		}
		return r.broken(res, finding.EnvBrowser, err)
	}
	if r.h.b.PerLoad() {
		rctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if testHook != nil {
		testHook(sc)
	}
	if sc.Fault != "" {
		r.rec.Add(timeline.Harness, timeline.FaultInjected, "", map[string]any{"code": string(sc.Fault)})
	}
	if t := sc.Throttle; t != nil {
		if err := r.ses.Throttle(rctx, t.CPURate, t.Latency, t.DownloadKbps, t.UploadKbps); err != nil {
			return r.broken(res, finding.EnvBrowser, err)
		}
		r.rec.Add(timeline.Harness, timeline.ThrottleApplied, "", map[string]any{
			"cpu_rate": t.CPURate, "latency_ms": t.Latency.Milliseconds(), "download_kbps": t.DownloadKbps, "upload_kbps": t.UploadKbps})
	}
	if err := r.login(rctx); err != nil {
		var le *loginError
		switch {
		case isUnreachable(err):
			return r.broken(res, finding.EnvPageUnreachable, err)
		case errors.As(err, &le):
			return r.broken(res, finding.EnvLoginFailed, err)
		case rctx.Err() != nil:
			return r.broken(res, finding.EnvTimeout, err)
		}
		return r.broken(res, finding.EnvBrowser, err)
	}

	observe := sc.Observe
	if observe <= 0 {
		observe = DefaultObserve
	}
	divs := make([]string, 0, len(p.Campaigns))
	for _, c := range p.Campaigns {
		divs = append(divs, c.DivID)
	}
	navStart := r.rec.Now()
	// The settle state is rebuilt from the whole timeline at each decision:
	// the subscription only wakes the loop up, so an event a slow
	// subscriber missed is still counted.
	state := func() *settleState {
		st := newSettleState(divs, observe, SettleWindow, r.h.opt.LiveKit)
		st.navStart = navStart
		r.mu.Lock()
		st.inflight, st.lastNetAt = r.inflight, r.lastNetAt
		r.mu.Unlock()
		for _, e := range r.rec.Events() {
			st.apply(e)
		}
		return st
	}
	r.rec.Add(timeline.Browser, timeline.Navigation, "", map[string]any{"url": r.redactText(p.Page.URL), "phase": "start"})

	// Navigate in the background: a page that never answers must not stop
	// the settle loop from seeing the deadline.
	navDone := make(chan error, 1)
	go func() { navDone <- r.ses.Navigate(rctx, p.Page.URL) }()

	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		select {
		case err := <-navDone:
			navDone = nil
			if err != nil {
				if isUnreachable(err) {
					return r.broken(res, finding.EnvPageUnreachable, err)
				}
				if rctx.Err() == nil {
					return r.broken(res, finding.EnvBrowser, err)
				}
			}
		case <-events:
		case <-r.wake:
		case <-timer.C:
		case <-rctx.Done():
			ok, why := state().verdictAtDeadline(r.rec.Now())
			if ctx.Err() != nil {
				return r.broken(res, finding.EnvTimeout, fmt.Errorf("scenario cancelled: %w", ctx.Err()))
			}
			if !ok {
				return r.broken(res, finding.EnvTimeout, fmt.Errorf("no verdict within the scenario timeout of %s: %s", timeout, why))
			}
			r.rec.Add(timeline.Harness, timeline.Timeout, "", map[string]any{"verdict": true})
			return r.finish(res)
		}
		// Drain what is queued before deciding.
		for drained := false; !drained; {
			select {
			case <-events:
			default:
				drained = true
			}
		}
		st := state()
		done, wake := st.next(r.rec.Now(), r.kit.Verifying())
		if done && navDone == nil || done && st.loadedAt >= 0 {
			return r.finish(res)
		}
		if done {
			wake = r.rec.Now() + 50 // committed soon: wait for the navigation call to return
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

// testHook, when set (by tests only, before any Run), is called once the
// scenario's browser session is open: tests use it to panic inside Run.
var testHook func(Scenario)

// finish captures the evidence and judges.
func (r *run) finish(res *Result) (*Result, error) {
	// Judge what the page did before the harness touched it for evidence
	// (scrolling campaigns into view, masking participant values).
	seen := r.rec.Events()
	r.evidence(res)
	res.Campaigns, res.Findings = r.judge(seen)
	res.Timeline = r.rec.Events()
	return res, nil
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
		divs = append(divs, c.DivID)
		selectors = append(selectors, `iframe[data-qualcert-campaign="`+cssEscape(c.DivID)+`"]`)
	}
	r.maskPage(ctx)
	elements, page := r.ses.Evidence(ctx, evidenceTimeout, selectors)
	for i, div := range divs {
		if err := elements[i].Err; err != nil {
			r.rec.Add(timeline.Harness, timeline.Screenshot, div, map[string]any{"error": err.Error()})
			continue
		}
		name := "campaign-" + div + ".png"
		res.Screenshots = append(res.Screenshots, Screenshot{Name: name, Campaign: div, PNG: elements[i].PNG})
		r.rec.Add(timeline.Harness, timeline.Screenshot, div, map[string]any{"name": name, "bytes": len(elements[i].PNG)})
	}
	if page.Err != nil {
		r.rec.Add(timeline.Harness, timeline.Screenshot, "", map[string]any{"error": page.Err.Error()})
		return
	}
	res.Screenshots = append(res.Screenshots, Screenshot{Name: "page.png", PNG: page.PNG})
	r.rec.Add(timeline.Harness, timeline.Screenshot, "", map[string]any{"name": "page.png", "bytes": len(page.PNG)})
}

// maskScript replaces, in the top page's text and form fields, every
// participant value the tokens carried by "•••" (whole words), so that
// page.png shows no more of the participant than the masked campaign form
// does. It marks the page first, so that the recorder does not take the
// harness's own edits for a page reaction. It returns how many places it
// masked.
const maskScript = `(function (values) {
  window.__qualcertEvidence = true;
  if (!values.length || !document.body) return 0;
  var esc = function (s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); };
  var re = new RegExp('(?<![\\p{L}\\p{N}])(?:' + values.map(esc).join('|') + ')(?![\\p{L}\\p{N}])', 'gu');
  var n = 0, node, w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  var mask = function (s) { return s.replace(re, function () { n++; return '•••'; }); };
  while ((node = w.nextNode())) { var m = mask(node.data); if (m !== node.data) node.data = m; }
  document.querySelectorAll('input, textarea').forEach(function (el) {
    if (el.value) { var m = mask(el.value); if (m !== el.value) el.value = m; }
  });
  return n;
})(%s)`

// maskPage runs maskScript unless the run reveals values.
func (r *run) maskPage(ctx context.Context) {
	if r.h.opt.Reveal || r.kit == nil {
		return
	}
	values := r.kit.ParticipantValues()
	if len(values) == 0 {
		return
	}
	b, err := json.Marshal(values)
	if err != nil {
		return
	}
	out, err := r.ses.Eval(ctx, fmt.Sprintf(maskScript, b))
	data := map[string]any{"masked": string(out)}
	if err != nil {
		data = map[string]any{"error": err.Error()}
	}
	r.rec.Add(timeline.Harness, timeline.EvidenceMasked, "", data)
}

// cssEscape escapes a value for a double-quoted CSS attribute selector.
func cssEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}
