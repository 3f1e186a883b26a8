package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod/lib/proto"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/kit"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

// Tuning of the settling rules (PROTOCOL.md, "Judgement rules").
const (
	// DefaultObserve is how long the page is watched for a reaction after a
	// campaign reported an error.
	DefaultObserve = time.Second
	// SettleWindow is how long a loaded page may stay quiet (no kit, no new
	// campaign) before the run concludes that nothing more will come.
	SettleWindow = 1500 * time.Millisecond
	// raceMargin is the minimal comfortable margin between setMetaData and
	// getMetaData.
	raceMargin = 200.0
	// evidenceTimeout bounds each screenshot at the end of a run.
	evidenceTimeout = 3 * time.Second
)

// run is the state of one scenario.
type run struct {
	h   *Harness
	sc  Scenario
	rec *timeline.Recorder
	kit *kit.Server
	ses *browser.Session

	mu        sync.Mutex
	tokens    map[string]string // raw tokens seen in the page, by fingerprint
	tokenDiv  map[string]string // fingerprint → div of its setMetaData
	requests  []browser.Request
	console   []browser.Console
	inflight  int            // page requests in flight
	lastNetAt float64        // recorder time of the last request start or end
	wake      chan struct{}  // signalled when the network state changes
	scrolling sync.WaitGroup // the reader's scroll through the page
}

// maxConsole caps the console messages kept per run (a page that logs in a
// loop must not exhaust memory or flood the timeline).
const maxConsole = 1000

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
	if code == finding.EnvTimeout {
		r.rec.Add(timeline.Harness, timeline.Timeout, "", map[string]any{"error": err.Error()})
	}
	res.Timeline = r.rec.Events()
	return res, &brokenError{code: code, err: err}
}

// redactText replaces token-looking strings and known tokens with their
// fingerprints and caps the length.
func (r *run) redactText(s string) string {
	if r.h.opt.Reveal {
		return truncate(s, 300)
	}
	r.mu.Lock()
	for fp, tok := range r.tokens {
		if len(tok) >= 8 {
			s = strings.ReplaceAll(s, tok, fp)
		}
	}
	r.mu.Unlock()
	s = finding.RedactText(s)
	if r.kit != nil {
		s = scrubValues(s, r.kit.ParticipantValues())
	}
	return truncate(s, 300)
}

// scrubValues replaces each known participant value in s, as written or
// URL-encoded (an e-mail in a query string is "ada%40example.com"), by its
// fingerprint. Whole words only, so that "Ann" does not eat "Announcement".
func scrubValues(s string, values []string) string {
	for _, v := range values {
		for _, form := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if !strings.Contains(s, form) {
				continue
			}
			re, err := regexp.Compile(`(^|[^\pL\pN])` + regexp.QuoteMeta(form) + `($|[^\pL\pN])`)
			if err != nil {
				continue
			}
			s = re.ReplaceAllString(s, "${1}"+finding.Fingerprint(v)+"${2}")
		}
	}
	return s
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
	safe := func(f func()) {
		defer func() {
			if p := recover(); p != nil {
				r.rec.Add(timeline.Harness, timeline.HarnessError, "", map[string]any{"panic": fmt.Sprint(p)})
			}
		}()
		f()
	}
	return browser.Hooks{
		Binding: func(payload string) { safe(func() { r.onBinding(payload) }) },
		Request: func(q browser.Request) {
			if len(q.Body) > maxBody {
				q.Body = q.Body[:maxBody]
			}
			r.mu.Lock()
			if len(r.requests) < maxRequests {
				r.requests = append(r.requests, q)
			}
			r.mu.Unlock()
		},
		Console: func(c browser.Console) {
			safe(func() {
				r.mu.Lock()
				n := len(r.console)
				if n < maxConsole {
					r.console = append(r.console, c)
				}
				r.mu.Unlock()
				if n < maxConsole && (c.Exception || c.Level == "error" || c.Level == "assert") {
					r.rec.Add(timeline.Browser, timeline.ConsoleError, "", map[string]any{"level": c.Level, "text": r.redactText(c.Text)})
				}
			})
		},
		Dialog: func(d browser.Dialog) {
			safe(func() {
				r.rec.Add(timeline.Browser, timeline.Dialog, "", map[string]any{"type": d.Type, "message": r.redactText(d.Message), "action": "dismissed"})
			})
		},
		Navigated: func(u string, sameDoc bool) {
			safe(func() {
				if u == "about:blank" || strings.HasPrefix(u, "chrome-error:") && sameDoc {
					return
				}
				r.rec.Add(timeline.Browser, timeline.Navigation, "", map[string]any{"url": r.redactText(u), "same_document": sameDoc})
			})
		},
		Loaded: func() { safe(func() { r.rec.Add(timeline.Browser, timeline.PageLoaded, "", nil) }) },
		Failure: func(what string) {
			safe(func() {
				r.rec.Add(timeline.Harness, timeline.HarnessError, "", map[string]any{"error": r.redactText(what)})
			})
		},
		Network: func(n int) {
			r.mu.Lock()
			r.inflight, r.lastNetAt = n, r.rec.Now()
			r.mu.Unlock()
			select {
			case r.wake <- struct{}{}:
			default:
			}
		},
	}
}

// binding is what the recorder and the kit send through the CDP binding.
type binding struct {
	Src  string         `json:"src"`
	Ev   string         `json:"ev"`
	Div  string         `json:"div"`
	T    float64        `json:"t"`
	Data map[string]any `json:"data"`
}

func (r *run) onBinding(payload string) {
	var b binding
	if err := json.Unmarshal([]byte(payload), &b); err != nil {
		return
	}
	t := kit.ClockMs(r.rec, b.T)
	switch b.Src + "/" + b.Ev {
	case "page/command":
		args, _ := b.Data["args"].([]any)
		name := ""
		if len(args) > 0 {
			name, _ = args[0].(string)
		}
		div := ""
		if name == "setMetaData" && len(args) > 3 {
			div, _ = args[3].(string)
		}
		red := make([]any, len(args))
		for i, a := range args {
			if head, n, ok := bigString(a); ok {
				red[i] = map[string]any{"fingerprint": r.noteToken(head, div), "length": n, "truncated": true}
				continue
			}
			switch v := a.(type) {
			case string:
				if name == "setMetaData" && i == 2 {
					red[i] = r.noteToken(v, div)
				} else {
					red[i] = r.redactText(v)
				}
			default:
				red[i] = v
			}
		}
		if name == "setMetaData" && len(red) > 2 && r.h.opt.Reveal {
			red[2] = args[2]
		}
		if name == "createIframe" && len(args) > 1 {
			div, _ = args[1].(string)
		}
		r.rec.AddAt(t, timeline.Page, timeline.Command, div, map[string]any{"name": name, "how": b.Data["how"], "args": red})
	case "page/postMessage":
		data := map[string]any{"origin": b.Data["origin"], "type": b.Data["type"], "direction": "to-page"}
		if p, ok := b.Data["payload"].(map[string]any); ok {
			red := map[string]any{}
			for k, v := range p {
				if head, n, ok := bigString(v); ok {
					v = map[string]any{"fingerprint": r.noteToken(head, b.Div), "length": n}
				} else if s, ok := v.(string); ok {
					if k == "jwt" {
						v = r.noteToken(s, b.Div)
					} else if k != "type" && k != "divId" && k != "code" {
						v = r.redactText(s)
					}
				}
				red[k] = v
			}
			data["payload"] = red
		}
		r.rec.AddAt(t, timeline.Page, timeline.PostMessage, b.Div, data)
	case "page/sign":
		r.rec.AddAt(t, timeline.Page, timeline.CampaignSign, "", map[string]any{"kind": b.Data["kind"], "what": r.redactText(fmt.Sprint(b.Data["what"]))})
	case "page/dom":
		r.rec.AddAt(t, timeline.Page, timeline.PageReaction, "", map[string]any{"kind": "dom", "tag": b.Data["tag"], "id": b.Data["id"]})
	case "kit/kit.loaded":
		r.rec.AddAt(t, timeline.Kit, timeline.KitLoaded, "", map[string]any{"again": b.Data["again"] == true})
	case "kit/createIframe":
		r.rec.AddAt(t, timeline.Kit, timeline.CreateIframe, b.Div, pick(b.Data, "host", "found", "div_kind", "channel_type", "guid"))
	case "kit/iframe.loaded":
		r.rec.AddAt(t, timeline.Kit, timeline.IframeLoaded, b.Div, nil)
	case "kit/setMetaData":
		d := pick(b.Data, "type", "div_kind", "token_type")
		if s, ok := b.Data["token"].(string); ok {
			d["fingerprint"] = r.noteToken(s, b.Div)
			d["length"] = len(s)
		} else if head, n, ok := bigString(b.Data["token"]); ok {
			d["fingerprint"] = r.noteToken(head, b.Div)
			d["length"] = n
		}
		r.rec.AddAt(t, timeline.Kit, timeline.SetMetaData, b.Div, d)
	case "kit/metadata.sent":
		r.rec.AddAt(t, timeline.Kit, timeline.PostMessage, b.Div, map[string]any{"type": "qualifio:metaData", "direction": "to-campaign", "has_meta": b.Data["has_meta"]})
	case "kit/kit.error", "kit/command.unknown", "kit/command.invalid":
		r.rec.AddAt(t, timeline.Kit, timeline.Command, b.Div, map[string]any{"error": b.Ev, "name": b.Data["name"], "message": r.redactText(fmt.Sprint(b.Data["message"]))})
	}
}

// bigString reads the description the recorder and the kit send instead of
// a string over 64 KiB: its head and its length.
func bigString(v any) (head string, length int, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || m["__t"] != "big" {
		return "", 0, false
	}
	head, _ = m["head"].(string)
	n, _ := m["length"].(float64)
	return head, int(n), true
}

func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

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
	r.rec.Add(timeline.Harness, timeline.Navigation, "", map[string]any{"phase": "login", "url": r.redactText(l.URL), "steps": len(l.Steps)})
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

// verifier builds the run's verifier (one per Run, shared by its campaigns).
func (r *run) verifier(ctx context.Context) (*verify.Verifier, error) {
	v, err := verify.New(ctx, verify.ConfigFromProfile(r.sc.Profile))
	if err != nil {
		return nil, fmt.Errorf("loading the profile's keys: %w", err)
	}
	return v, nil
}
