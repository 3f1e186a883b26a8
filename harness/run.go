package harness

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/judge"
	"github.com/qualcert/qualcert/harness/kit"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

// Tuning of the run (the rules themselves are package judge's).
const (
	// DefaultObserve bounds the wait for a page's reaction after a campaign
	// reported an error: the run ends as soon as a reaction is seen (and a
	// fresh token it hands over is judged), so the bound costs only pages
	// that never react, and a loaded machine does not miss a slow one.
	DefaultObserve = time.Duration(judge.DefaultObserveMs) * time.Millisecond
	// SettleWindow is how long a loaded page may stay quiet (no kit, no new
	// campaign) before the run concludes that nothing more will come.
	SettleWindow = time.Duration(judge.DefaultSettleMs) * time.Millisecond
	// evidenceTimeout bounds each screenshot at the end of a run. A capture
	// takes 0.2–2.1 s at load 16 on 2 cores (the campaign frame taller than
	// the window is laid out again): 3 s dropped screenshots on a loaded
	// machine. The bound only costs time on a page that stalls its capture.
	evidenceTimeout = 10 * time.Second
	// sessionTimeout bounds opening the scenario's tab (incognito context,
	// interception, recorder): its own bound, outside the scenario timeout,
	// which counts from navigation.
	sessionTimeout = 60 * time.Second
	// maxTabAttempts is how many times opening the tab is tried when one of
	// its CDP calls times out (each is bounded by the browser package).
	maxTabAttempts = 4
	// loginTimeout bounds the scripted login as a whole (each step also
	// has loginStepTimeout).
	loginTimeout = 60 * time.Second
)

// run is the state of one scenario.
type run struct {
	h        *Harness
	sc       Scenario
	rec      *timeline.Recorder
	kit      *kit.Server
	ses      *browser.Session
	navStart float64   // recorder time of the scenario's own navigation
	replay   *replayer // answers the page's requests from a capture (Options.Replay); nil otherwise

	mu        sync.Mutex
	tokens    map[string]string         // raw tokens seen in the page, by fingerprint
	tokenDiv  map[string]string         // fingerprint → div of its setMetaData
	results   map[string]*verify.Result // the verifier's results, by token fingerprint
	verifying int                       // verifications in flight
	requests  []browser.Request
	console   []browser.Console
	conBytes  int            // bytes of console text kept (maxConsoleBytes)
	conCut    bool           // a console message cut by the connection was marked
	reqDrop   bool           // requests past maxRequests were dropped (marked once)
	conDrop   bool           // console messages past the bounds were dropped (marked once)
	csps      int            // CSP violations Chromium reported (bounded by maxCSP)
	inflight  int            // page requests in flight
	lastNetAt float64        // recorder time of the last request start or end
	wake      chan struct{}  // signalled when the network state changes
	scrolling sync.WaitGroup // the reader's scroll through the page
}

// maxConsole and maxConsoleBytes cap the console messages kept per run (a
// page that logs in a loop must not exhaust memory or flood the timeline);
// a message over maxConsoleEvent bytes reaches the run already cut to its
// first 32 KiB (browser.Console.Cut).
const (
	maxConsole      = 1000
	maxConsoleBytes = 8 << 20
)

// maxCSP caps the CSP violations recorded per run (a page whose policy
// refuses a tracker in a loop must not flood the timeline).
const maxCSP = 100

// maxRequests and maxBody cap what is kept of the page's requests for the
// token leak check.
const (
	maxRequests = 5000
	maxBody     = 1 << 20
)

// brokenError is the error of a Run that reached no verdict.
type brokenError struct {
	code finding.Code
	err  error
}

func (e *brokenError) Error() string   { return fmt.Sprintf("%s: %v", e.code, e.err) }
func (e *brokenError) Unwrap() []error { return []error{ErrBroken, e.err} }

// broken finishes res as a broken result.
func (r *run) broken(res *Result, code finding.Code, err error) (*Result, error) {
	f := finding.New(code, "%v", err)
	f.Scenario = r.sc.Name
	res.Findings = append(res.Findings, f)
	if r.ses != nil && res.HAR == nil {
		// what the page requested before the run broke: the evidence
		// support needs most
		res.HAR = r.ses.HAR()
	}
	if code == finding.EnvTimeout {
		r.rec.Add(timeline.Harness, timeline.Timeout, "", map[string]any{"error": err.Error()})
	}
	res.Timeline = r.rec.Events()
	return res, &brokenError{code: code, err: err}
}

// redactText replaces token-looking strings, e-mail addresses and every
// token and participant value seen so far in the run with their
// fingerprints, and caps the length. The reports scrub again at write
// time, with every value of the whole run (finding.NoteSecret).
func (r *run) redactText(s string) string {
	if r.h.opt.Reveal {
		return truncate(s, 300)
	}
	for _, v := range r.participantValues() {
		finding.NoteSecret(v)
	}
	// Cut first (a page can log megabytes), redact, cut to size.
	return truncate(finding.RedactText(truncate(s, 4096)), 300)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// noteToken remembers a raw token seen in the page and returns its fingerprint.
func (r *run) noteToken(tok, div string) string {
	fp := finding.Fingerprint(tok)
	finding.NoteSecret(tok)
	r.mu.Lock()
	r.tokens[fp] = tok
	if _, ok := r.tokenDiv[fp]; !ok && div != "" {
		r.tokenDiv[fp] = div
	}
	r.mu.Unlock()
	return fp
}

// hooks wires the browser session to the timeline.
func (r *run) hooks() browser.Hooks {
	dec := &observe.Decoder{Rec: r.rec, Redact: redactor{r}}
	safe := func(f func()) {
		defer func() {
			if p := recover(); p != nil {
				r.rec.Add(timeline.Harness, timeline.HarnessError, "", map[string]any{"panic": fmt.Sprint(p)})
			}
		}()
		f()
	}
	return browser.Hooks{
		// Only the recorder's isolated world has the binding (the session
		// bounds it all the same: browser.Session).
		Binding: func(payload string) {
			if sl := r.sc.slow; sl != nil && sl.delivery != nil {
				sl.delivery(payload)
			}
			safe(func() { dec.Handle(payload) })
		},
		Request: func(q browser.Request) {
			if len(q.Body) > maxBody {
				q.Body = q.Body[:maxBody]
			}
			r.mu.Lock()
			keep := len(r.requests) < maxRequests
			if keep {
				r.requests = append(r.requests, q)
			}
			first := !keep && !r.reqDrop
			r.reqDrop = r.reqDrop || !keep
			r.mu.Unlock()
			if first {
				// The leak check sees no further request: said once, and
				// judged (token.leak_unchecked).
				r.rec.Add(timeline.Harness, timeline.EventsDropped, "", map[string]any{"kind": browser.DroppedNetwork, "why": "cap", "max_requests": maxRequests})
			}
		},
		Dropped: func(kind string) {
			r.rec.Add(timeline.Browser, timeline.EventsDropped, "", map[string]any{"kind": kind, "why": "flood"})
		},
		Console: func(c browser.Console) {
			safe(func() {
				r.mu.Lock()
				n := len(r.console)
				keep := n < maxConsole && r.conBytes+len(c.Text) <= maxConsoleBytes
				if keep {
					r.console = append(r.console, c)
					r.conBytes += len(c.Text)
				}
				firstCut := c.Cut > 0 && !r.conCut
				firstDrop := !keep && !r.conDrop
				r.conCut = r.conCut || c.Cut > 0
				r.conDrop = r.conDrop || !keep
				r.mu.Unlock()
				// Both marked once: what the leak check and the timeline
				// saw of the console is bounded, and the report says so.
				if firstCut {
					r.rec.Add(timeline.Browser, timeline.ConsoleCut, "", map[string]any{
						"what": "a console message was cut to its first bytes before decoding", "bytes": c.Cut, "kept": len(c.Text)})
				}
				if firstDrop {
					r.rec.Add(timeline.Harness, timeline.ConsoleCut, "", map[string]any{
						"what": "further console messages are dropped", "kept_messages": n, "max_messages": maxConsole, "max_bytes": maxConsoleBytes})
				}
				if keep && (c.Exception || c.Level == "error" || c.Level == "assert") {
					r.rec.Add(timeline.Browser, timeline.ConsoleError, "", map[string]any{"level": c.Level, "text": r.redactText(c.Text)})
				}
			})
		},
		Dialog: func(d browser.Dialog) {
			safe(func() {
				observe.Record(r.rec, -1, timeline.Browser, timeline.Dialog, "", observe.DialogData{Type: d.Type, Message: r.redactText(d.Message), Action: "dismissed"})
			})
		},
		Navigated: func(u string, sameDoc bool) {
			safe(func() {
				if u == "about:blank" || strings.HasPrefix(u, "chrome-error:") && sameDoc {
					return
				}
				observe.Record(r.rec, -1, timeline.Browser, timeline.Navigation, "", observe.NavigationData{URL: r.redactText(u), SameDocument: sameDoc})
			})
		},
		Loaded: func() { safe(func() { r.rec.Add(timeline.Browser, timeline.PageLoaded, "", nil) }) },
		Document: func(d browser.Document) {
			safe(func() {
				observe.Record(r.rec, -1, timeline.Browser, timeline.PageResponse, "", observe.ResponseData{
					URL: r.redactText(d.URL), Status: d.Status, MIMEType: d.MIMEType, Disposition: r.redactText(d.Disposition), CSP: truncate(d.CSP, 2000)})
			})
		},
		CSP: func(v browser.CSPViolation) {
			safe(func() {
				r.mu.Lock()
				r.csps++
				n := r.csps
				r.mu.Unlock()
				if n > maxCSP {
					return
				}
				observe.Record(r.rec, -1, timeline.Browser, timeline.PageBlocked, "", observe.BlockedData{How: observe.BlockedCSP,
					Directive: v.Directive, BlockedURL: r.redactText(v.BlockedURL), ReportOnly: v.ReportOnly, Source: "audits"})
			})
		},
		Failure: func(what string) {
			safe(func() {
				r.rec.Add(timeline.Harness, timeline.HarnessError, "", map[string]any{"error": r.redactText(what)})
			})
		},
		Network: func(n int) {
			r.mu.Lock()
			r.inflight, r.lastNetAt = n, r.rec.Now()
			r.mu.Unlock()
			r.signal()
		},
	}
}

// redactor is the run as package observe's decoder sees it.
type redactor struct{ r *run }

func (x redactor) Token(raw, div string) string { return x.r.noteToken(raw, div) }
func (x redactor) Text(s string) string         { return x.r.redactText(s) }
func (x redactor) Reveal() bool                 { return x.r.h.opt.Reveal }

// cookies turns the profile's cookies into CDP cookies.
func (r *run) cookies() []*proto.NetworkCookieParam {
	if r.sc.LoggedOut {
		return nil
	}
	var out []*proto.NetworkCookieParam
	for _, c := range r.sc.Profile.Page.Cookies {
		p := &proto.NetworkCookieParam{Name: c.Name, Value: c.Value, Domain: c.Domain, Path: c.Path}
		if c.Domain == "" {
			p.URL = r.sc.Profile.Page.URL
		}
		if p.Path == "" {
			p.Path = "/"
		}
		out = append(out, p)
	}
	return out
}

// login runs the profile's scripted login.
func (r *run) login(ctx context.Context) error {
	l := r.sc.Profile.Page.Login
	if l == nil || r.sc.LoggedOut {
		return nil
	}
	observe.Record(r.rec, -1, timeline.Harness, timeline.Navigation, "", observe.NavigationData{Phase: "login", URL: r.redactText(l.URL), Steps: len(l.Steps)})
	if err := r.ses.Navigate(ctx, l.URL); err != nil {
		return fmt.Errorf("scripted login: %w", err)
	}
	for i, st := range l.Steps {
		// Each step gets its own deadline, so that a selector that matches
		// nothing is reported as that step's failure (env.login_failed)
		// rather than as the whole scenario timing out.
		sctx, cancel := context.WithTimeout(ctx, loginStepTimeout)
		var err error
		switch {
		case st.Fill != nil:
			var v string
			if v, err = st.Fill.Resolve(); err == nil {
				err = r.ses.Fill(sctx, st.Fill.Selector, v)
			}
		case st.Click != "":
			err = r.ses.Click(sctx, st.Click)
		case st.WaitURL != "":
			err = r.ses.WaitURL(sctx, st.WaitURL)
		}
		cancel()
		if err != nil {
			err = fmt.Errorf("scripted login, step %d (%s): %w", i+1, describeStep(st), err)
			if ctx.Err() != nil {
				return err // the scenario's own deadline: env.timeout
			}
			return &loginError{err}
		}
	}
	return nil
}

// loginStepTimeout bounds one step of a scripted login: a login page
// answers a fill or a click in well under a second.
const loginStepTimeout = 5 * time.Second

// loginError is a scripted login that failed at one of its steps.
type loginError struct{ err error }

func (e *loginError) Error() string { return e.err.Error() }
func (e *loginError) Unwrap() error { return e.err }

func describeStep(st profile.LoginStep) string {
	switch {
	case st.Fill != nil:
		return fmt.Sprintf("fill %q", st.Fill.Selector)
	case st.Click != "":
		return fmt.Sprintf("click %q", st.Click)
	default:
		return fmt.Sprintf("wait_url %q", st.WaitURL)
	}
}

// isUnreachable reports whether a navigation error means the page could not
// be reached at all.
func isUnreachable(err error) bool {
	var ne *browser.NavigationError
	return errors.As(err, &ne)
}

// hostOf returns the lower-case host of a URL ("" when unparsable).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// verifier builds the run's verify function (one verifier per Run, shared
// by its campaigns): the kit calls it for each token a campaign iframe
// received; the run keeps the results (the campaigns' Token, and the
// participant values to scrub) and counts the verifications in flight.
func (r *run) verifier(ctx context.Context) (kit.VerifyFunc, error) {
	cfg := verify.ConfigFromProfile(r.sc.Profile)
	cfg.At = r.sc.At
	cfg.UserInfoOffline = r.h.opt.Replay != nil
	cfg.Resolver = r.h.opt.Resolver
	v, err := verify.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("loading the profile's keys: %w", err)
	}
	if err := v.Prefetch(ctx); err != nil {
		return nil, &keySourceError{err}
	}
	return func(ctx context.Context, req kit.VerifyRequest) *verify.Result {
		r.mu.Lock()
		r.verifying++
		r.mu.Unlock()
		res := v.Verify(ctx, req.Token, verify.Options{CampaignID: req.CampaignID, Campaign: req.Div, Timeline: r.rec})
		if res.Fingerprint == "" {
			res.Fingerprint = finding.Fingerprint(req.Token)
		}
		r.mu.Lock()
		r.verifying--
		if _, seen := r.results[res.Fingerprint]; !seen {
			r.results[res.Fingerprint] = res
		}
		r.mu.Unlock()
		r.signal()
		return res
	}, nil
}

// keySourceError is a key source (a JWKS URL) that could not be read
// before the page loaded: the run has no verdict (env.key_source).
type keySourceError struct{ err error }

func (e *keySourceError) Error() string { return e.err.Error() }
func (e *keySourceError) Unwrap() error { return e.err }

// signal wakes the settle loop up (a state outside the timeline changed).
func (r *run) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// participantValues returns the participant values carried by the tokens
// verified so far (form fields, sub, the access token, and the values the
// user-info webservice answered), so that the harness can scrub them from
// console text and URLs it records and mask them before its screenshot.
// Values under three characters are left out: scrubbing them would mangle
// ordinary words.
func (r *run) participantValues() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	add := func(v string) {
		if len(v) >= 3 && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	for _, res := range r.results {
		for _, v := range res.Fields {
			add(v)
		}
		if sub, ok := res.Claims["sub"].(string); ok {
			add(sub)
		}
		if at, ok := res.Claims[r.sc.Profile.Token.AccessTokenClaim].(string); ok {
			add(at)
		}
	}
	return out
}
