package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// callTimeout bounds every CDP call of a session, so that a page stuck in an
// endless script loop never hangs the harness.
const callTimeout = 10 * time.Second

// maxBodyFetches bounds the request bodies a session fetches at once
// (Network.getRequestPostData, for the bodies Chromium leaves out of its
// events).
const maxBodyFetches = 32

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxPostData is the largest request body Chromium copies into Network events
// (the token leak check reads bodies; a 10 MB token must fit).
const maxPostData = 32 << 20

// Request is a request the page (or one of its frames) sent.
type Request struct {
	URL         string
	Method      string
	Referer     string
	Body        string
	Type        string // Document, Script, XHR, Fetch, Image…
	Intercepted bool   // answered by the session's Handler
}

// Console is a console message or an uncaught exception.
type Console struct {
	Level     string // log, warning, error…; "exception" for uncaught exceptions
	Text      string
	Exception bool
	Cut       int // the message's size in bytes when the connection cut it to its first bytes (consolecap.go); 0 = whole
}

// Dialog is an alert, confirm, prompt or beforeunload dialog, dismissed.
type Dialog struct {
	Type    string
	Message string
}

// Hooks receive what a session observes. They may be called concurrently
// and must not block for long; nil hooks are skipped.
type Hooks struct {
	Failure   func(what string)              // a fault of the harness's own handlers (a recovered panic)
	Binding   func(payload string)           // a call of the session's Runtime binding
	Request   func(Request)                  // every request sent, with its body
	Console   func(Console)                  // console messages and exceptions
	Dialog    func(Dialog)                   // after the dialog was dismissed
	Navigated func(url string, sameDoc bool) // the top frame committed a navigation
	Loaded    func()                         // the top frame's load event
	Network   func(inflight int)             // the number of requests in flight changed
	Document  func(Document)                 // the top frame's document answered (its final response, after redirects)
	CSP       func(CSPViolation)             // Chromium reported a Content-Security-Policy violation (Audits issue) in the tab or a frame
	Dropped   func(kind string)              // the first event of a kind (Dropped*) the session's bounded queue dropped in a flood (eventq.go)
}

// CSPViolation is a load or script the page's Content-Security-Policy
// stopped, as Chromium's Audits domain reports it: out of the page's reach,
// unlike a securitypolicyviolation event a page can dispatch itself.
type CSPViolation struct {
	Directive  string // the violated directive: frame-src, script-src-elem…
	BlockedURL string
	ReportOnly bool   // Content-Security-Policy-Report-Only: reported, not blocked
	Type       string // kURLViolation, kInlineViolation, kEvalViolation…
}

// Document is the answer the top frame got to a navigation: what it takes
// to tell a page from a non-page answer (204, a download, a PDF, JSON).
type Document struct {
	URL         string
	Status      int
	MIMEType    string // as Chromium resolved it (after sniffing)
	Disposition string // the Content-Disposition header, "" when absent
	CSP         string // the Content-Security-Policy header(s), "" when absent
}

// SessionConfig configures one scenario's tab.
type SessionConfig struct {
	Intercept []string     // Fetch URL patterns (wildcards * and ?) answered by Handler
	Handler   http.Handler // answers intercepted requests; its requests carry the session's context
	Binding   string       // name of a Runtime binding (window.<name>(string)); "" = none
	Scripts   []string     // evaluated in every new document before any page script, in the page's own world
	// World names an isolated world (a JavaScript world of its own over the
	// same DOM, like an extension's content script): WorldScripts run there
	// in every new document before any page script, and the binding, when
	// World is set, exists only there, out of the page's reach.
	World        string
	WorldScripts []string
	Cookies      []*proto.NetworkCookieParam
	Hooks        Hooks
	Width        int // viewport; 0 = 1280×900
	Height       int
	// HAR keeps a HAR 1.2 log of the page's requests with their bodies
	// (Session.HAR); HARSkip leaves out the requests it matches (the
	// harness's own traffic).
	HAR     bool
	HARSkip func(url string) bool
}

// Session is one scenario's incognito context and tab.
type Session struct {
	b       *Browser
	cfg     SessionConfig
	inc     *rod.Browser
	page    *rod.Page
	ctx     context.Context // lives until Close
	cancel  context.CancelFunc
	loop    sync.WaitGroup
	flights sync.WaitGroup

	mu       sync.Mutex
	sessions map[proto.TargetSessionID]*rod.Page // the tab and its out-of-process iframes
	oopifs   map[proto.TargetSessionID]*rod.Page // the out-of-process iframes among them (Sync reaches each)
	url      string
	urlWake  chan struct{}
	closed   bool
	inflight map[proto.NetworkRequestID]bool

	netCut         bool                     // network events were dropped (dropped): requests in flight are no longer counted
	bodyFetches    int                      // request bodies being fetched (request)
	bodyDrops      int                      // requests reported without their body, fetches being at maxBodyFetches
	bindingCalls   int                      // calls of the binding so far (bindingAllowed)
	bindingDropped bool                     // a call was dropped (reported once)
	link           *link                    // the emulated network for what Handler answers; nil: none
	cpuRate        float64                  // the emulated CPU slowdown (Throttle); ≤ 1: none
	release        func() error             // ends the session's own browser (per-load endpoints, grid); nil when shared
	syncSeq        uint64                   // the last Sync's number
	syncWait       map[uint64]chan struct{} // Syncs waiting for their marker, by number
	har            harLog                   // the requests of the page, when cfg.HAR (har.go)
}

// NavigationError is a navigation Chromium could not complete (DNS, refused
// connection…), as opposed to a page that answered with an HTTP error.
type NavigationError struct {
	URL  string
	Text string // net::ERR_…
}

func (e *NavigationError) Error() string { return fmt.Sprintf("navigating to %s: %s", e.URL, e.Text) }

// openSession opens an incognito context and a tab in it, wired to cfg
// (NewSession, in connect.go, first picks the browser).
func (b *Browser) openSession(ctx context.Context, cfg SessionConfig) (s *Session, err error) {
	sctx, cancel := context.WithCancel(context.Background())
	s = &Session{b: b, cfg: cfg, ctx: sctx, cancel: cancel,
		sessions: map[proto.TargetSessionID]*rod.Page{}, oopifs: map[proto.TargetSessionID]*rod.Page{}, urlWake: make(chan struct{}), inflight: map[proto.NetworkRequestID]bool{},
		syncWait: map[uint64]chan struct{}{}}
	defer func() {
		if err != nil {
			_ = s.Close()
			s = nil
		}
	}()
	call := func() (context.Context, context.CancelFunc) { return bounded(ctx) }

	c, done := call()
	inc, err := b.rod.Context(c).Incognito()
	done()
	if err != nil {
		return s, fmt.Errorf("creating an incognito context: %w", err)
	}
	s.inc = inc.Context(sctx)
	if err := b.confine(ctx); err != nil {
		return s, fmt.Errorf("confining the page's popups and workers: %w", err)
	}
	b.own(inc.BrowserContextID, s)

	// The cookies go into the context while its tab is being created (the
	// tab's renderer start is most of a session's set-up time).
	var cookiesErr error
	var cookiesSet sync.WaitGroup
	if len(cfg.Cookies) > 0 {
		cookiesSet.Go(func() {
			c, done := call()
			defer done()
			if err := s.inc.Context(c).SetCookies(cfg.Cookies); err != nil {
				cookiesErr = fmt.Errorf("setting the session cookies: %w", err)
			}
		})
	}
	c, done = call()
	page, err := s.inc.Context(c).Page(proto.TargetCreateTarget{})
	done()
	cookiesSet.Wait()
	if err != nil {
		return s, fmt.Errorf("opening a tab: %w", err)
	}
	s.page = page.Context(sctx)
	s.sessions[page.SessionID] = s.page
	if cookiesErr != nil {
		return s, cookiesErr
	}

	// Subscribe before enabling the domains so that no event is missed.
	events := b.rod.Context(sctx).Event()
	s.loop.Add(1)
	go s.dispatch(events)

	w, h := cfg.Width, cfg.Height
	if w == 0 || h == 0 {
		w, h = 1280, 900
	}
	calls := []cdpCall{{what: "setting the viewport", req: proto.EmulationSetDeviceMetricsOverride{Width: w, Height: h, DeviceScaleFactor: 1}}}
	calls = append(calls, s.domains(true)...)
	calls = append(calls, s.scripts()...)
	// Out-of-process iframes (a remote browser with site isolation on) are
	// separate targets: attach to them, paused, so that interception is on
	// before their first request (attached).
	calls = append(calls, cdpCall{what: "auto-attaching to iframes", req: proto.TargetSetAutoAttach{AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: true}})
	if err := s.doAll(ctx, s.page, calls); err != nil {
		return s, err
	}
	return s, nil
}

// cdpCall is one CDP call of a session's set-up, with what it is for (or
// a chain of calls that must keep their order).
type cdpCall struct {
	what  string
	req   proto.Request
	chain []proto.Request
}

// scripts is the call that injects the session's scripts into every new
// document of a target (the tab, or an out-of-process iframe): the world's
// first, then the page's, in one chain so that they run in that order.
func (s *Session) scripts() []cdpCall {
	if len(s.cfg.Scripts)+len(s.cfg.WorldScripts) == 0 {
		return nil
	}
	scripts := cdpCall{what: "injecting the recorder scripts"}
	for _, js := range s.cfg.WorldScripts {
		scripts.chain = append(scripts.chain, proto.PageAddScriptToEvaluateOnNewDocument{Source: js, WorldName: s.cfg.World})
	}
	for _, js := range s.cfg.Scripts {
		scripts.chain = append(scripts.chain, proto.PageAddScriptToEvaluateOnNewDocument{Source: js})
	}
	return []cdpCall{scripts}
}

// domains are the calls that turn on what a session listens to on one
// target (top: the tab, else an out-of-process iframe or a worker).
func (s *Session) domains(top bool) []cdpCall {
	size := maxPostData
	calls := []cdpCall{
		{what: "enabling Runtime", req: proto.RuntimeEnable{}},
		{what: "enabling Network", req: proto.NetworkEnable{MaxPostDataSize: &size}},
	}
	if s.cfg.Hooks.CSP != nil {
		calls = append(calls, cdpCall{what: "enabling Audits", req: proto.AuditsEnable{}})
	}
	if top {
		calls = append(calls, cdpCall{what: "enabling Page", req: proto.PageEnable{}})
	}
	if len(s.cfg.Intercept) > 0 {
		var patterns []*proto.FetchRequestPattern
		for _, u := range s.cfg.Intercept {
			patterns = append(patterns, &proto.FetchRequestPattern{URLPattern: u, RequestStage: proto.FetchRequestStageRequest})
		}
		calls = append(calls, cdpCall{what: "enabling Fetch", req: proto.FetchEnable{Patterns: patterns}})
	}
	if s.cfg.Binding != "" {
		// With a world, the binding exists only in the contexts of that
		// world (also those created later): the page cannot call it.
		calls = append(calls, cdpCall{what: "adding the binding", req: proto.RuntimeAddBinding{Name: s.cfg.Binding, ExecutionContextName: s.cfg.World}})
	}
	return calls
}

// doAll issues independent CDP calls on target p at once (none depends on
// another's answer, and all are answered before the page is navigated) and
// returns their errors, joined in the order of the calls.
func (s *Session) doAll(ctx context.Context, p *rod.Page, calls []cdpCall) error {
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Go(func() {
			reqs := c.chain
			if c.req != nil {
				reqs = []proto.Request{c.req}
			}
			for _, r := range reqs {
				if err := s.do(ctx, p, r); err != nil {
					errs[i] = fmt.Errorf("%s: %w", c.what, err)
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// bounded gives a call context with the session call timeout.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

// do runs one CDP call on target p with a deadline.
func (s *Session) do(ctx context.Context, p *rod.Page, r proto.Request) error {
	c, cancel := bounded(ctx)
	defer cancel()
	_, err := p.Call(c, string(p.SessionID), r.ProtoReq(), r)
	return err
}

// target returns the page of one of the session's CDP sessions (the tab or
// an attached iframe), and whether the session is ours.
func (s *Session) target(id proto.TargetSessionID) (*rod.Page, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.sessions[id]
	return p, ok
}

// dispatch routes the browser's CDP events to the session's handlers: it
// drains go-rod's channel at once into the session's bounded queue
// (eventq.go), which one goroutine hands, in order, to handle.
func (s *Session) dispatch(events <-chan *rod.Message) {
	defer s.loop.Done()
	q := newEventQueue()
	var work sync.WaitGroup
	work.Go(func() {
		for {
			msg, ok := q.pop()
			if !ok {
				return
			}
			s.handle(msg)
		}
	})
	for msg := range events {
		if _, ok := s.target(msg.SessionID); !ok {
			continue // another session's, or the browser's
		}
		if kind, n := q.push(msg); kind != "" {
			s.dropped(kind, n)
		}
	}
	q.close()
	work.Wait()
}

// dropped notes an event the queue dropped: the Dropped hook hears of the
// first of each kind. Once network events are lost, the count of
// requests in flight is unknown: it is reported as none from then on, so
// that no wait for a quiet network hangs on a request whose end was
// dropped.
func (s *Session) dropped(kind string, n int) {
	if kind == DroppedNetwork {
		s.mu.Lock()
		first := !s.netCut
		s.netCut = true
		clear(s.inflight)
		s.mu.Unlock()
		if first && s.cfg.Hooks.Network != nil {
			s.cfg.Hooks.Network(0)
		}
	}
	if n == 1 && s.cfg.Hooks.Dropped != nil {
		s.cfg.Hooks.Dropped(kind)
	}
}

// handle runs the session's handler of one event.
func (s *Session) handle(msg *rod.Message) {
	p, ok := s.target(msg.SessionID)
	if !ok {
		return
	}
	top := p == s.page
	if s.cfg.HAR {
		s.harEvent(p, msg)
	}
	switch msg.Method {
	case (proto.FetchRequestPaused{}).ProtoEvent():
		var e proto.FetchRequestPaused
		if msg.Load(&e) {
			s.goFlight(func() {
				// A handler bug must neither kill the run nor leave the
				// request paused until the scenario times out: fail it,
				// and say why on the timeline.
				defer func() {
					if r := recover(); r != nil {
						s.failure(fmt.Sprintf("answering an intercepted request: panic: %v", r))
						_ = s.do(s.ctx, p, proto.FetchFailRequest{RequestID: e.RequestID, ErrorReason: proto.NetworkErrorReasonFailed})
					}
				}()
				s.fulfill(p, &e)
			})
		}
	case (proto.RuntimeBindingCalled{}).ProtoEvent():
		var e proto.RuntimeBindingCalled
		switch {
		case !msg.Load(&e) || e.Name != s.cfg.Binding:
		case strings.HasPrefix(e.Payload, syncPrefix): // the session's own marker (Sync)
			s.synced(e.Payload)
		case s.cfg.Hooks.Binding != nil && s.bindingAllowed(len(e.Payload)):
			s.cfg.Hooks.Binding(e.Payload)
		}
	case (proto.NetworkRequestWillBeSent{}).ProtoEvent():
		var e proto.NetworkRequestWillBeSent
		if msg.Load(&e) {
			if e.Type != proto.NetworkResourceTypeWebSocket && e.Type != proto.NetworkResourceTypeEventSource {
				s.track(e.RequestID, true)
			}
			s.request(p, &e)
		}
	case (proto.NetworkWebSocketCreated{}).ProtoEvent():
		// A WebSocket's handshake is no requestWillBeSent: its URL
		// (where a token can travel) is reported here.
		var e proto.NetworkWebSocketCreated
		if msg.Load(&e) && s.cfg.Hooks.Request != nil {
			s.cfg.Hooks.Request(Request{URL: e.URL, Method: "GET", Type: string(proto.NetworkResourceTypeWebSocket)})
		}
	case (proto.NetworkResponseReceived{}).ProtoEvent():
		// The answer has arrived: a token in it is in the page's hands.
		// Chromium sends no loadingFinished for a fetch whose body the
		// page never reads (a 401 it ignores), so the headers are the
		// end of the wait.
		var e proto.NetworkResponseReceived
		if msg.Load(&e) {
			s.track(e.RequestID, false)
			if top && e.Type == proto.NetworkResourceTypeDocument && e.Response != nil &&
				string(e.FrameID) == string(s.page.TargetID) && s.cfg.Hooks.Document != nil {
				s.cfg.Hooks.Document(documentOf(e.Response))
			}
		}
	case (proto.NetworkLoadingFinished{}).ProtoEvent():
		var e proto.NetworkLoadingFinished
		if msg.Load(&e) {
			s.track(e.RequestID, false)
		}
	case (proto.NetworkLoadingFailed{}).ProtoEvent():
		var e proto.NetworkLoadingFailed
		if msg.Load(&e) {
			s.track(e.RequestID, false)
		}
	case (proto.AuditsIssueAdded{}).ProtoEvent():
		var e proto.AuditsIssueAdded
		if msg.Load(&e) && s.cfg.Hooks.CSP != nil && e.Issue != nil && e.Issue.Details != nil {
			if d := e.Issue.Details.ContentSecurityPolicyIssueDetails; d != nil {
				s.cfg.Hooks.CSP(CSPViolation{Directive: d.ViolatedDirective, BlockedURL: d.BlockedURL,
					ReportOnly: d.IsReportOnly, Type: string(d.ContentSecurityPolicyViolationType)})
			}
		}
	case (proto.RuntimeConsoleAPICalled{}).ProtoEvent():
		var e proto.RuntimeConsoleAPICalled
		if msg.Load(&e) && s.cfg.Hooks.Console != nil {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, remoteText(a))
			}
			s.cfg.Hooks.Console(Console{Level: string(e.Type), Text: strings.Join(parts, " "), Cut: cutSize(e.Context)})
		}
	case (proto.RuntimeExceptionThrown{}).ProtoEvent():
		var e proto.RuntimeExceptionThrown
		if msg.Load(&e) && s.cfg.Hooks.Console != nil && e.ExceptionDetails != nil {
			text := e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				text += " " + remoteText(e.ExceptionDetails.Exception)
			}
			s.cfg.Hooks.Console(Console{Level: "exception", Text: text, Exception: true, Cut: cutSize(e.ExceptionDetails.URL)})
		}
	case (proto.PageJavascriptDialogOpening{}).ProtoEvent():
		var e proto.PageJavascriptDialogOpening
		if msg.Load(&e) {
			s.goFlight(func() {
				// Dismissed (Cancel); a beforeunload is accepted so that
				// navigations and the close of the tab go on.
				accept := e.Type == proto.PageDialogTypeBeforeunload
				_ = s.do(s.ctx, p, proto.PageHandleJavaScriptDialog{Accept: accept})
				if s.cfg.Hooks.Dialog != nil {
					s.cfg.Hooks.Dialog(Dialog{Type: string(e.Type), Message: e.Message})
				}
			})
		}
	case (proto.PageFrameNavigated{}).ProtoEvent():
		var e proto.PageFrameNavigated
		if msg.Load(&e) && top && e.Frame != nil && e.Frame.ParentID == "" {
			s.navigated(e.Frame.URL, false)
		}
	case (proto.PageNavigatedWithinDocument{}).ProtoEvent():
		var e proto.PageNavigatedWithinDocument
		if msg.Load(&e) && top && string(e.FrameID) == string(s.page.TargetID) {
			s.navigated(e.URL, true)
		}
	case (proto.PageLoadEventFired{}).ProtoEvent():
		if top && s.cfg.Hooks.Loaded != nil {
			s.cfg.Hooks.Loaded()
		}
	case (proto.TargetAttachedToTarget{}).ProtoEvent():
		var e proto.TargetAttachedToTarget
		if msg.Load(&e) {
			s.goFlight(func() { s.attached(&e) })
		}
	case (proto.TargetDetachedFromTarget{}).ProtoEvent():
		var e proto.TargetDetachedFromTarget
		if msg.Load(&e) {
			s.mu.Lock()
			if c, ok := s.sessions[e.SessionID]; ok && c != s.page {
				delete(s.sessions, e.SessionID)
				delete(s.oopifs, e.SessionID)
			}
			s.mu.Unlock()
		}
	}
}

// track counts the requests in flight and reports changes.
func (s *Session) track(id proto.NetworkRequestID, started bool) {
	s.mu.Lock()
	if s.netCut { // see dropped
		s.mu.Unlock()
		return
	}
	if started {
		s.inflight[id] = true
	} else {
		delete(s.inflight, id)
	}
	n := len(s.inflight)
	s.mu.Unlock()
	if s.cfg.Hooks.Network != nil {
		s.cfg.Hooks.Network(n)
	}
}

// failure reports a fault of the harness itself to the Failure hook.
func (s *Session) failure(what string) {
	if s.cfg.Hooks.Failure != nil {
		s.cfg.Hooks.Failure(what)
	}
}

// goFlight runs f in its own goroutine, tracked so that Close waits for it.
func (s *Session) goFlight(f func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.flights.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.flights.Done()
		defer func() { // a handler bug must not kill the run, nor go unseen
			if r := recover(); r != nil {
				s.failure(fmt.Sprintf("session handler: panic: %v", r))
			}
		}()
		f()
	}()
}

// targetIframe is the type of an out-of-process iframe's target (go-rod's
// enum of target types lacks it).
const targetIframe proto.TargetTargetInfoType = "iframe"

// attached wires an auto-attached target: iframes and workers get the same
// interception and network observation as the tab (a worker's fetch is the
// page's request too); every target is then resumed.
//
// An out-of-process iframe (a frame of another site, where the browser
// isolates sites) is a renderer of its own: what the session injects into
// the tab's documents (the scripts, in the page's world and in the
// isolated World) and the World's binding do not reach it, and the tag of
// an article widget served from another host of the publisher would run
// there unseen. It gets them here, as the tab got them, while it waits for
// the debugger: its first document is created after it resumes, so the
// scripts run in it before any of its own.
func (s *Session) attached(e *proto.TargetAttachedToTarget) {
	child := s.b.rod.PageFromSession(e.SessionID)
	if e.TargetInfo != nil && e.TargetInfo.Type != proto.TargetTargetInfoTypePage {
		child.TargetID = e.TargetInfo.TargetID // an iframe's target id is its frame's id (Sync)
		s.mu.Lock()
		s.sessions[e.SessionID] = child
		if e.TargetInfo.Type == targetIframe {
			s.oopifs[e.SessionID] = child
		}
		s.mu.Unlock()
		calls := append(s.domains(false),
			cdpCall{what: "auto-attaching to nested iframes", req: proto.TargetSetAutoAttach{AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: true}})
		if e.TargetInfo.Type == targetIframe {
			// Page, for its scripts on new documents and its dialogs
			// (dismissed as the tab's are).
			calls = append(calls, cdpCall{what: "enabling Page", req: proto.PageEnable{}})
			calls = append(calls, s.scripts()...)
		}
		if err := s.doAll(s.ctx, child, calls); err != nil && s.ctx.Err() == nil {
			// Resumed all the same (a paused frame would hang the page),
			// but what it does may go unseen: said on the timeline, unless
			// the frame went away meanwhile (an ad slot torn down).
			if _, still := s.target(e.SessionID); !still {
				return
			}
			s.failure(fmt.Sprintf("wiring an out-of-process %s (%s): %v", e.TargetInfo.Type, e.TargetInfo.URL, err))
		}
	}
	_ = s.do(s.ctx, child, proto.RuntimeRunIfWaitingForDebugger{})
}

func (s *Session) navigated(u string, sameDoc bool) {
	s.mu.Lock()
	s.url = u
	close(s.urlWake)
	s.urlWake = make(chan struct{})
	s.mu.Unlock()
	if s.cfg.Hooks.Navigated != nil {
		s.cfg.Hooks.Navigated(u, sameDoc)
	}
}

// request reports a request, fetching its body when Chromium left it out.
func (s *Session) request(p *rod.Page, e *proto.NetworkRequestWillBeSent) {
	if s.cfg.Hooks.Request == nil || e.Request == nil {
		return
	}
	r := Request{URL: e.Request.URL + e.Request.URLFragment, Method: e.Request.Method, Type: string(e.Type), Body: postData(e.Request)}
	for k, v := range e.Request.Headers {
		if strings.EqualFold(k, "referer") {
			r.Referer = v.Str()
		}
	}
	if e.Request.HasPostData && r.Body == "" {
		// Each fetch is a CDP call of its own: at most maxBodyFetches at
		// once, past which a flood's requests are reported without their
		// bodies (and the Dropped hook says so).
		s.mu.Lock()
		busy := s.bodyFetches >= maxBodyFetches
		if !busy {
			s.bodyFetches++
		}
		s.bodyDrops += b2i(busy)
		n := s.bodyDrops
		s.mu.Unlock()
		if busy {
			s.dropped(DroppedBodies, n)
			s.cfg.Hooks.Request(r)
			return
		}
		s.goFlight(func() {
			defer func() {
				s.mu.Lock()
				s.bodyFetches--
				s.mu.Unlock()
			}()
			c, cancel := bounded(s.ctx)
			defer cancel()
			if res, err := (proto.NetworkGetRequestPostData{RequestID: e.RequestID}).Call(p.Context(c)); err == nil {
				r.Body = res.PostData
			}
			s.cfg.Hooks.Request(r)
		})
		return
	}
	s.cfg.Hooks.Request(r)
}

// documentOf reads what classifies a top-frame answer.
func documentOf(r *proto.NetworkResponse) Document {
	d := Document{URL: r.URL, Status: r.Status, MIMEType: r.MIMEType}
	for k, v := range r.Headers {
		switch {
		case strings.EqualFold(k, "content-disposition"):
			d.Disposition = v.Str()
		case strings.EqualFold(k, "content-security-policy"):
			d.CSP = v.Str()
		}
	}
	return d
}

func postData(r *proto.NetworkRequest) string {
	if len(r.PostDataEntries) > 0 {
		var b bytes.Buffer
		for _, e := range r.PostDataEntries {
			b.Write(e.Bytes)
		}
		return b.String()
	}
	return r.PostData
}

// fulfill answers an intercepted request with the session's Handler.
func (s *Session) fulfill(p *rod.Page, e *proto.FetchRequestPaused) {
	if s.cfg.Handler == nil || e.Request == nil {
		_ = s.do(s.ctx, p, proto.FetchContinueRequest{RequestID: e.RequestID})
		return
	}
	body := postData(e.Request)
	if e.Request.HasPostData && body == "" && e.NetworkID != "" {
		c, cancel := bounded(s.ctx)
		if res, err := (proto.NetworkGetRequestPostData{RequestID: e.NetworkID}).Call(p.Context(c)); err == nil {
			body = res.PostData
		}
		cancel()
	}
	req, err := http.NewRequestWithContext(s.ctx, e.Request.Method, e.Request.URL, strings.NewReader(body))
	if err != nil {
		_ = s.do(s.ctx, p, proto.FetchFailRequest{RequestID: e.RequestID, ErrorReason: proto.NetworkErrorReasonFailed})
		return
	}
	for k, v := range e.Request.Headers {
		req.Header.Set(k, v.Str())
	}
	arrived := time.Now()
	rec := httptest.NewRecorder()
	s.cfg.Handler.ServeHTTP(rec, req)
	res := rec.Result()
	data, _ := io.ReadAll(res.Body)
	// Chromium's network emulation does not apply to a request fulfilled
	// here: emulate it, so that the kit and the campaign come as late as
	// they would over the emulated network.
	s.mu.Lock()
	l := s.link
	s.mu.Unlock()
	if l != nil {
		t := time.NewTimer(time.Until(arrived.Add(l.delay(arrived, len(body)+len(e.Request.URL), len(data)))))
		select {
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		}
	}
	var headers []*proto.FetchHeaderEntry
	for k, vs := range res.Header {
		for _, v := range vs {
			headers = append(headers, &proto.FetchHeaderEntry{Name: k, Value: v})
		}
	}
	_ = s.do(s.ctx, p, proto.FetchFulfillRequest{RequestID: e.RequestID, ResponseCode: res.StatusCode, ResponseHeaders: headers, Body: data})
}

// remoteText renders a console argument.
func remoteText(o *proto.RuntimeRemoteObject) string {
	if o == nil {
		return ""
	}
	if o.Value.Nil() {
		if o.Description != "" {
			return o.Description
		}
		return string(o.Type)
	}
	if v := o.Value.Val(); v != nil {
		if str, ok := v.(string); ok {
			return str
		}
	}
	raw, _ := json.Marshal(o.Value.Val())
	return string(raw)
}

// Navigate loads url in the tab. It returns when Chromium committed the
// navigation (the server answered), not at the load event; a navigation
// that fails before any answer is a *NavigationError.
func (s *Session) Navigate(ctx context.Context, url string) error {
	res, err := proto.PageNavigate{URL: url}.Call(s.page.Context(ctx))
	if err != nil {
		return fmt.Errorf("navigating to %s: %w", url, err)
	}
	switch {
	case res.ErrorText == "":
		return nil
	// An HTTP error status with an empty body, and a navigation the page
	// itself replaced, are answers: the page is reachable.
	case strings.Contains(res.ErrorText, "ERR_HTTP_RESPONSE_CODE_FAILURE"), strings.Contains(res.ErrorText, "ERR_ABORTED"):
		return nil
	}
	return &NavigationError{URL: url, Text: res.ErrorText}
}

// OutOfProcessFrames is the number of iframe targets the session attached
// to (0 when every frame lives in the tab's renderer).
func (s *Session) OutOfProcessFrames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions) - 1
}

// URL is the top frame's last committed URL.
func (s *Session) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// WaitURL waits until the top frame's URL contains part.
func (s *Session) WaitURL(ctx context.Context, part string) error {
	for {
		s.mu.Lock()
		u, wake := s.url, s.urlWake
		s.mu.Unlock()
		if strings.Contains(u, part) {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("waiting for a URL containing %q (at %s): %w", part, u, ctx.Err())
		}
	}
}

// waitElement is a JavaScript function that resolves with the element
// matching a selector as soon as it exists (MutationObserver, no polling),
// or rejects after a delay.
const waitElement = `function (sel, ms) {
  return new Promise(function (resolve, reject) {
    var el = document.querySelector(sel);
    if (el) return resolve(el);
    var mo = new MutationObserver(function () {
      var e = document.querySelector(sel);
      if (e) { mo.disconnect(); clearTimeout(t); resolve(e); }
    });
    mo.observe(document, { childList: true, subtree: true });
    var t = setTimeout(function () { mo.disconnect(); reject(new Error('no element matches ' + sel)); }, ms);
  });
}`

// onElement waits for selector in the top frame and runs the JavaScript
// body with the element bound to el.
func (s *Session) onElement(ctx context.Context, selector, body string) error {
	sel, _ := json.Marshal(selector)
	ms := int64(callTimeout / time.Millisecond)
	if dl, ok := ctx.Deadline(); ok {
		ms = min(ms, time.Until(dl).Milliseconds())
	}
	_, err := s.Eval(ctx, fmt.Sprintf(`(%s)(%s, %d).then(function (el) { %s; return true; })`, waitElement, sel, ms, body))
	return err
}

// Fill focuses the element matching selector, clears it and types value
// (CDP Input.insertText: the page sees input events as from a keyboard).
func (s *Session) Fill(ctx context.Context, selector, value string) error {
	if err := s.onElement(ctx, selector, `el.scrollIntoView({block:'center'}); el.focus(); if ('value' in el) el.value = ''`); err != nil {
		return fmt.Errorf("finding %q: %w", selector, err)
	}
	if err := s.do(ctx, s.page, proto.InputInsertText{Text: value}); err != nil {
		return fmt.Errorf("typing into %q: %w", selector, err)
	}
	return nil
}

// Click clicks the element matching selector.
func (s *Session) Click(ctx context.Context, selector string) error {
	if err := s.onElement(ctx, selector, `el.scrollIntoView({block:'center'}); el.click()`); err != nil {
		return fmt.Errorf("clicking %q: %w", selector, err)
	}
	return nil
}

// Throttle emulates a slower CPU (rate ≥ 1) and network (latency,
// throughputs in kbit/s; 0 = unlimited).
func (s *Session) Throttle(ctx context.Context, cpuRate float64, latency time.Duration, downKbps, upKbps float64) error {
	if cpuRate > 1 {
		if err := s.do(ctx, s.page, proto.EmulationSetCPUThrottlingRate{Rate: cpuRate}); err != nil {
			return fmt.Errorf("emulating a slow CPU: %w", err)
		}
		s.mu.Lock()
		s.cpuRate = cpuRate
		s.mu.Unlock()
	}
	bps := func(kbps float64) float64 {
		if kbps <= 0 {
			return -1
		}
		return kbps * 1000 / 8
	}
	if latency > 0 || downKbps > 0 || upKbps > 0 {
		err := s.do(ctx, s.page, proto.NetworkEmulateNetworkConditions{
			Latency: float64(latency.Milliseconds()), DownloadThroughput: bps(downKbps), UploadThroughput: bps(upKbps)})
		if err != nil {
			return fmt.Errorf("emulating a slow network: %w", err)
		}
		s.mu.Lock()
		s.link = &link{latency: latency, down: bps(downKbps), up: bps(upKbps)}
		s.mu.Unlock()
	}
	return nil
}

// link emulates, for the requests the session's Handler answers (Fetch
// fulfils them outside Chromium's network stack, so its emulation never
// sees them), the network conditions of Throttle: each request waits the
// round-trip latency, and its upload and download take their size over the
// link's throughput, shared in turn by the requests in flight (a transfer
// starts when the previous one on that direction is done).
type link struct {
	latency  time.Duration
	down, up float64 // bytes per second; ≤ 0 = unlimited

	mu               sync.Mutex
	upFree, downFree time.Time // when each direction is free again
}

// delay returns how long after at a request of reqBytes, answered with
// respBytes, is fully received by the page.
func (l *link) delay(at time.Time, reqBytes, respBytes int) time.Duration {
	transfer := func(n int, rate float64) time.Duration {
		if rate <= 0 || n <= 0 {
			return 0
		}
		return time.Duration(float64(n) / rate * float64(time.Second))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	sent := maxTime(at, l.upFree).Add(transfer(reqBytes, l.up))
	l.upFree = sent
	done := maxTime(sent.Add(l.latency), l.downFree).Add(transfer(respBytes, l.down))
	l.downFree = done
	return done.Sub(at)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Capture is one screenshot of Evidence: a PNG, or why there is none.
type Capture struct {
	PNG []byte
	// Blank: every pixel of the element's capture is one colour, also when
	// taken again after the page painted (see clip in Evidence): the
	// element showed nothing, or Chromium did not paint it.
	Blank bool
	Err   error
}

// uniform reports whether every pixel of the PNG shot is the colour of
// the first (false when it cannot be decoded).
func uniform(shot []byte) bool {
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		return false
	}
	b := img.Bounds()
	if b.Empty() {
		return false
	}
	r0, g0, b0, a0 := img.At(b.Min.X, b.Min.Y).RGBA()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, a := img.At(x, y).RGBA(); r != r0 || g != g0 || bl != b0 || a != a0 {
				return false
			}
		}
	}
	return true
}

// nextPaint waits, within each, until the top frame has painted twice
// more (two animation frames): what was laid out is then on screen.
func (s *Session) nextPaint(ctx context.Context, each time.Duration) {
	c, cancel := context.WithTimeout(ctx, each)
	defer cancel()
	_, _ = s.Eval(c, `new Promise(function (done) { requestAnimationFrame(function () { requestAnimationFrame(function () { done(1); }); }); })`)
}

// scrollAndMeasure scrolls each selector's element into view in order
// (block: nearest) and returns, at the final scroll position, each
// element's box in document coordinates (null when missing) and the
// visible viewport.
const scrollAndMeasure = `function (sels) {
  var els = sels.map(function (s) { return document.querySelector(s); });
  els.forEach(function (e) { if (e) e.scrollIntoView({block: 'nearest'}); });
  var v = window.visualViewport;
  return {
    boxes: els.map(function (e) {
      if (!e) return null;
      var r = e.getBoundingClientRect();
      return {x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height};
    }),
    view: {x: window.scrollX, y: window.scrollY, w: v ? v.width : window.innerWidth, h: v ? v.height : window.innerHeight}
  };
}`

type box struct{ X, Y, W, H float64 }

// inside reports whether b lies within v.
func (b box) inside(v box) bool {
	return b.X >= v.X && b.Y >= v.Y && b.X+b.W <= v.X+v.W && b.Y+b.H <= v.Y+v.H
}

// Evidence captures, as PNGs, the element matching each selector (the part
// of the page it covers, scrolled into view) and then the viewport, as left
// by those scrolls. CDP captures of one tab must not overlap (Chromium
// applies a capture's clip to the tab's view while it renders), so they are
// issued one at a time, and as few as possible: the elements that fit in
// the final viewport are cut out of the viewport's capture; the last element
// scrolled, when larger than the viewport, is captured beyond it; an
// earlier one out of view is scrolled into view again before, and the
// final scroll position restored. An element that is not in the top
// document is looked for in the page's iframes, whatever their origin or
// process (frameBox: a campaign the tag created inside a widget), and
// captured alone, as an earlier one out of view is. each bounds every
// capture.
func (s *Session) Evidence(ctx context.Context, each time.Duration, selectors []string) (elements []Capture, page Capture) {
	elements = make([]Capture, len(selectors))
	s.fullSpeed(ctx, each)
	measure := func(sels []string) ([]*box, box, error) { return s.measure(ctx, each, sels) }
	clip := func(i int, b *box, beyond bool) {
		elements[i].PNG, elements[i].Err = s.capture(ctx, each, b, beyond)
		if elements[i].Err != nil {
			elements[i].Err = fmt.Errorf("capturing %q: %w", selectors[i], elements[i].Err)
			return
		}
		// Chromium sometimes hands back a campaign iframe captured beyond
		// the viewport before the frame painted it: all white (the demo's
		// 1200 px campaign in a 900 px window, about 1 capture in 5 of a
		// loaded machine's runs). Once the page painted, it is taken again;
		// one still blank is said (Capture.Blank).
		if !uniform(elements[i].PNG) {
			return
		}
		s.nextPaint(ctx, each)
		if again, err := s.capture(ctx, each, b, beyond); err == nil {
			elements[i].PNG = again
		}
		elements[i].Blank = uniform(elements[i].PNG)
	}
	boxes, view, err := measure(selectors)
	if err != nil {
		for i, sel := range selectors {
			elements[i].Err = fmt.Errorf("finding %q: %w", sel, err)
		}
		return elements, s.capturePage(ctx, each)
	}
	lastFound := -1
	for i, b := range boxes {
		if b != nil {
			lastFound = i
		}
	}
	var inView, beyond, rescroll, inFrames []int
	for i, b := range boxes {
		switch {
		case b == nil:
			inFrames = append(inFrames, i)
		case b.W < 1 || b.H < 1:
			elements[i].Err = fmt.Errorf("finding %q: no such visible element", selectors[i])
		case b.inside(view):
			inView = append(inView, i)
		case i == lastFound:
			beyond = append(beyond, i)
		default:
			rescroll = append(rescroll, i)
		}
	}
	for _, i := range rescroll {
		bs, v, err := measure([]string{selectors[i]})
		if err != nil || bs[0] == nil {
			elements[i].Err = fmt.Errorf("finding %q: %v", selectors[i], err)
			continue
		}
		clip(i, bs[0], !bs[0].inside(v))
	}
	for _, i := range inFrames {
		c, cancel := context.WithTimeout(ctx, each)
		b, v, _, err := s.frameBox(c, selectors[i])
		cancel()
		if err != nil {
			elements[i].Err = fmt.Errorf("finding %q: %w", selectors[i], err)
			continue
		}
		if b.W < 1 || b.H < 1 {
			elements[i].Err = fmt.Errorf("finding %q: %w", selectors[i], errNotInFrames)
			continue
		}
		clip(i, b, !b.inside(v))
	}
	if len(rescroll)+len(inFrames) > 0 {
		if _, _, err := measure(selectors); err != nil {
			page.Err = fmt.Errorf("capturing the page: %w", err)
		}
	}
	if page.Err == nil {
		page = s.capturePage(ctx, each)
	}
	for _, i := range inView {
		if page.Err != nil {
			clip(i, boxes[i], false)
			continue
		}
		if elements[i].PNG, elements[i].Err = cut(page.PNG, *boxes[i], view); elements[i].Err != nil {
			elements[i].Err = fmt.Errorf("capturing %q: %w", selectors[i], elements[i].Err)
		}
	}
	for _, i := range beyond {
		clip(i, boxes[i], true)
	}
	return elements, page
}

// fullSpeed lifts the emulated CPU slowdown (Throttle) before the evidence:
// the flow it was emulated for is over (the evidence is taken once the run
// has decided, and the judgement reads nothing the page does after), and a
// renderer four times slower takes four times as long to lay the page out
// and paint it for each capture. The network emulation stays (it costs the
// captures nothing). A failure only leaves the captures slower.
func (s *Session) fullSpeed(ctx context.Context, each time.Duration) {
	s.mu.Lock()
	rate := s.cpuRate
	s.mu.Unlock()
	if rate <= 1 {
		return
	}
	c, cancel := context.WithTimeout(ctx, each)
	defer cancel()
	if s.do(c, s.page, proto.EmulationSetCPUThrottlingRate{Rate: 1}) == nil {
		s.mu.Lock()
		s.cpuRate = 1
		s.mu.Unlock()
	}
}

// measure runs scrollAndMeasure for selectors.
func (s *Session) measure(ctx context.Context, each time.Duration, sels []string) ([]*box, box, error) {
	c, cancel := context.WithTimeout(ctx, each)
	defer cancel()
	arg, _ := json.Marshal(append([]string{}, sels...))
	raw, err := s.Eval(c, "("+scrollAndMeasure+")("+string(arg)+")")
	if err != nil {
		return nil, box{}, err
	}
	var m struct {
		Boxes []*box
		View  box
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, box{}, fmt.Errorf("reading the element boxes: %w", err)
	}
	if len(m.Boxes) != len(sels) {
		return nil, box{}, fmt.Errorf("reading the element boxes: %d boxes for %d selectors", len(m.Boxes), len(sels))
	}
	return m.Boxes, m.View, nil
}

// cut returns the part of the viewport capture shot that box b (document
// coordinates, within the viewport v) covers, as a PNG.
func cut(shot []byte, b, v box) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		return nil, fmt.Errorf("decoding the viewport capture: %w", err)
	}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		return nil, fmt.Errorf("cropping a %T capture", img)
	}
	x0, y0 := int(math.Floor(b.X-v.X)), int(math.Floor(b.Y-v.Y))
	x1, y1 := int(math.Ceil(b.X-v.X+b.W)), int(math.Ceil(b.Y-v.Y+b.H))
	r := image.Rect(x0, y0, x1, y1).Add(img.Bounds().Min).Intersect(img.Bounds())
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&out, sub.SubImage(r)); err != nil {
		return nil, fmt.Errorf("encoding the element capture: %w", err)
	}
	return out.Bytes(), nil
}

func (s *Session) capturePage(ctx context.Context, each time.Duration) Capture {
	png, err := s.capture(ctx, each, nil, false)
	if err != nil {
		return Capture{Err: fmt.Errorf("capturing the page: %w", err)}
	}
	return Capture{PNG: png}
}

// capture takes one PNG screenshot: the viewport, or the document
// rectangle b (beyond: also what lies outside the viewport, which costs a
// relayout of the page).
func (s *Session) capture(ctx context.Context, each time.Duration, b *box, beyond bool) ([]byte, error) {
	c, cancel := context.WithTimeout(ctx, each)
	defer cancel()
	req := proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng, OptimizeForSpeed: true, CaptureBeyondViewport: beyond}
	if b != nil {
		req.Clip = &proto.PageViewport{X: b.X, Y: b.Y, Width: b.W, Height: b.H, Scale: 1}
	}
	res, err := req.Call(s.page.Context(c))
	if err != nil {
		return nil, err
	}
	return res.Data, nil
}

// ScreenshotElement captures the element matching selector as a PNG (the
// part of the page it covers, scrolled into view).
func (s *Session) ScreenshotElement(ctx context.Context, selector string) ([]byte, error) {
	boxes, view, err := s.measure(ctx, callTimeout, []string{selector})
	if err != nil {
		return nil, fmt.Errorf("finding %q: %w", selector, err)
	}
	b := boxes[0]
	if b == nil || b.W < 1 || b.H < 1 {
		return nil, fmt.Errorf("finding %q: no such visible element", selector)
	}
	png, err := s.capture(ctx, callTimeout, b, !b.inside(view))
	if err != nil {
		return nil, fmt.Errorf("capturing %q: %w", selector, err)
	}
	return png, nil
}

// ScreenshotPage captures the viewport as a PNG.
func (s *Session) ScreenshotPage(ctx context.Context) ([]byte, error) {
	png, err := s.capture(ctx, callTimeout, nil, false)
	if err != nil {
		return nil, fmt.Errorf("capturing the page: %w", err)
	}
	return png, nil
}

// Eval evaluates a JavaScript expression in the top frame and returns its
// JSON value (for tests and diagnostics).
func (s *Session) Eval(ctx context.Context, expr string) (json.RawMessage, error) {
	c, cancel := bounded(ctx)
	defer cancel()
	res, err := proto.RuntimeEvaluate{Expression: expr, ReturnByValue: true, AwaitPromise: true}.Call(s.page.Context(c))
	if err != nil {
		return nil, err
	}
	if res.ExceptionDetails != nil {
		return nil, errors.New(res.ExceptionDetails.Text)
	}
	return json.RawMessage(res.Result.Value.JSON("", "")), nil
}

// Close disposes of the incognito context (its tab and renderer with it),
// whatever state the page is in, and stops the session's goroutines.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	var err error
	if s.inc != nil {
		dispose := func() error {
			c, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			err := proto.TargetDisposeBrowserContext{BrowserContextID: s.inc.BrowserContextID}.Call(s.b.rod.Context(c))
			if err != nil && strings.Contains(err.Error(), "Failed to find context") {
				return nil // an earlier, timed-out dispose did take effect
			}
			return err
		}
		err = dispose()
		if err != nil && s.page != nil {
			// A page that keeps its renderer busy (a router pushing state
			// every few ms, under load) can outlast one bound: close its tab
			// first, each call with a bound of its own, then dispose again.
			c, cancel := context.WithTimeout(context.Background(), callTimeout)
			_, _ = proto.TargetCloseTarget{TargetID: s.page.TargetID}.Call(s.b.rod.Context(c))
			cancel()
			if again := dispose(); again == nil {
				err = nil
			} else {
				err = errors.Join(err, again)
			}
		}
		if err != nil {
			err = fmt.Errorf("closing the scenario's browser context: %w", err)
		}
	}
	if s.inc != nil {
		s.b.own(s.inc.BrowserContextID, nil)
	}
	s.cancel()
	s.loop.Wait()
	s.flights.Wait()
	if s.release != nil {
		err = errors.Join(err, s.release())
	}
	return err
}

// Scroll is what ScrollThrough did.
type Scroll struct {
	Steps   int     `json:"steps"`   // scroll steps taken
	Y       float64 `json:"y"`       // final vertical scroll position, px
	Height  float64 `json:"height"`  // the document's height, px
	Reached string  `json:"reached"` // "campaign" (every div shows its campaign), "bottom", or "" (stopped)
	// Dwelt names the divs the reader stopped at, in view, while their
	// campaign was still coming (a lazy loader reacts to the div coming
	// into view, and then the kit and the campaign take their time).
	Dwelt []string `json:"dwelt,omitempty"`
	// At is the div the reader is stopped at (one step's answer only).
	At string `json:"at,omitempty"`
}

// readerStep is one step of a reader's scroll: when each div of divs holds
// a campaign iframe of the kit, the first is scrolled into view (the reader
// stops at the contest); when a div the reader has reached (present, its
// top above the fold) has no campaign yet and is not in skip, it is
// brought into view and the reader waits there ("at"); otherwise the page
// is scrolled down two thirds of a viewport, unless its end is reached.
// The page sees ordinary scroll events: IntersectionObserver lazy loaders
// fire.
const readerStep = `function (divs, skip) {
  var el = document.scrollingElement || document.documentElement;
  var out = function (reached, at) { return { y: window.scrollY, height: el ? el.scrollHeight : 0, reached: reached, at: at || '' }; };
  var first = null;
  for (var i = 0; i < divs.length; i++) {
    var d = document.getElementById(divs[i]);
    var f = d && d.querySelector('iframe[data-qualcert-campaign]');
    if (!f) { first = null; break; }
    first = first || f;
  }
  if (first) { first.scrollIntoView({ block: 'center' }); return out('campaign'); }
  for (var j = 0; j < divs.length; j++) {
    if (skip.indexOf(divs[j]) >= 0) continue;
    var w = document.getElementById(divs[j]);
    if (!w || w.querySelector('iframe[data-qualcert-campaign]')) continue;
    if (w.getBoundingClientRect().top <= window.innerHeight) {
      w.scrollIntoView({ block: 'center' });
      return out('', divs[j]);
    }
  }
  if (!el || window.scrollY + window.innerHeight >= el.scrollHeight - 2) return out('bottom');
  window.scrollBy(0, Math.max(100, Math.round(window.innerHeight * 2 / 3)));
  return out('');
}`

// ScrollThrough scrolls the top page down as a person reading it would
// (readerStep every pause), until the campaigns of divs show or the page
// ends, or ctx is done (then Reached is ""). At a div it has reached whose
// campaign has not come yet, the reader waits up to dwell (the time a kit
// is given to come) before reading on: on a loaded machine a lazy loader's
// kit can take seconds after the div came into view, and a reader who
// scrolled on would leave the campaign behind.
func (s *Session) ScrollThrough(ctx context.Context, divs []string, pause, dwell time.Duration) (Scroll, error) {
	arg, _ := json.Marshal(append([]string{}, divs...))
	var sc Scroll
	var dwelling string
	var dwellUntil time.Time
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return sc, nil
		case <-t.C:
		}
		skip, _ := json.Marshal(append([]string{}, sc.Dwelt...))
		if dwelling != "" && time.Now().After(dwellUntil) {
			dwelling = "" // waited long enough: read on past it (it stays in Dwelt, so skipped)
		} else if dwelling != "" {
			skip, _ = json.Marshal(slices.DeleteFunc(append([]string{}, sc.Dwelt...), func(d string) bool { return d == dwelling }))
		}
		raw, err := s.Eval(ctx, "("+readerStep+")("+string(arg)+","+string(skip)+")")
		if err != nil {
			if ctx.Err() != nil {
				return sc, nil
			}
			return sc, fmt.Errorf("scrolling the page through: %w", err)
		}
		var step Scroll
		if err := json.Unmarshal(raw, &step); err != nil {
			return sc, fmt.Errorf("reading the scroll: %w", err)
		}
		sc.Y, sc.Height, sc.Reached = step.Y, step.Height, step.Reached
		if sc.Reached != "" {
			return sc, nil
		}
		if step.At != "" && step.At != dwelling {
			dwelling, dwellUntil = step.At, time.Now().Add(dwell)
			if !slices.Contains(sc.Dwelt, step.At) {
				sc.Dwelt = append(sc.Dwelt, step.At)
			}
		}
		if step.At == "" {
			sc.Steps++
		}
		t.Reset(pause)
	}
}
