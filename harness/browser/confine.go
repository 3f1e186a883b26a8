package browser

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/go-rod/rod/lib/proto"
)

// Confinement: a page must not reach, through a target of its own making,
// what its tab cannot. A popup (window.open), a service worker (a
// Workbox-style network pass-through) and a shared worker are targets of
// their own, outside the tab's Fetch interception: left alone, they load
// Qualifio's real kit from the network. The browser therefore auto-attaches
// to every new top-level target, paused before its first request
// (waitForDebuggerOnStart), and hands each one to the Session whose
// incognito context it belongs to; the Session turns on the same
// interception and network observation as on its tab, and only then lets
// it run. A target of no session (another client's, on a remote browser)
// is resumed at once. Dedicated workers are children of their page: the
// page-level auto-attach of the Session catches them.

// confinement routes the browser's new targets to their sessions.
type confinement struct {
	once   sync.Once
	err    error
	mu     sync.Mutex
	owners map[proto.BrowserBrowserContextID]*Session
}

// confinedTypes are the top-level targets a page can create.
var confinedTypes = proto.TargetTargetFilter{
	{Type: "page"}, {Type: "service_worker"}, {Type: "shared_worker"},
	{Type: "browser", Exclude: true}, {Type: "tab", Exclude: true},
}

// confine starts, once per Browser, the browser-level auto-attach and the
// loop that routes attached targets.
func (b *Browser) confine(ctx context.Context) error {
	b.conf.once.Do(func() {
		b.conf.owners = map[proto.BrowserBrowserContextID]*Session{}
		if b.remote {
			// A remote browser belongs to its pool: a browser-level
			// auto-attach there pauses every client's new targets and
			// stalls tab creation. Its pages keep the tab's interception.
			return
		}
		events := b.rod.Event()
		go func() {
			for msg := range events {
				if msg.SessionID != "" || msg.Method != (proto.TargetAttachedToTarget{}).ProtoEvent() {
					continue
				}
				var e proto.TargetAttachedToTarget
				if !msg.Load(&e) || e.TargetInfo == nil {
					continue
				}
				b.conf.mu.Lock()
				s := b.conf.owners[e.TargetInfo.BrowserContextID]
				b.conf.mu.Unlock()
				go b.route(s, &e)
			}
		}()
		c, cancel := bounded(ctx)
		defer cancel()
		_, b.conf.err = b.rod.Call(c, "", (proto.TargetSetAutoAttach{}).ProtoReq(),
			proto.TargetSetAutoAttach{AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: true, Filter: confinedTypes})
	})
	return b.conf.err
}

// route hands an attached target to its session, or resumes it.
func (b *Browser) route(s *Session, e *proto.TargetAttachedToTarget) {
	// The tab a session creates itself is attached here too: it is set
	// up by NewSession, only resumed here.
	if s != nil && (e.TargetInfo.Type != proto.TargetTargetInfoTypePage || e.TargetInfo.OpenerID != "") {
		s.goFlight(func() { s.adopt(e) })
		return
	}
	child := b.rod.PageFromSession(e.SessionID)
	c, cancel := bounded(context.Background())
	defer cancel()
	_, _ = child.Call(c, string(e.SessionID), (proto.RuntimeRunIfWaitingForDebugger{}).ProtoReq(), proto.RuntimeRunIfWaitingForDebugger{})
}

// own registers s as the owner of the targets of its incognito context.
func (b *Browser) own(id proto.BrowserBrowserContextID, s *Session) {
	b.conf.mu.Lock()
	defer b.conf.mu.Unlock()
	if s == nil {
		delete(b.conf.owners, id)
		return
	}
	b.conf.owners[id] = s
}

// adopt wires a popup, service worker or shared worker of the session's
// context like the tab's iframes (interception, network observation),
// then lets it run.
func (s *Session) adopt(e *proto.TargetAttachedToTarget) {
	child := s.b.rod.PageFromSession(e.SessionID)
	s.mu.Lock()
	s.sessions[e.SessionID] = child
	s.mu.Unlock()
	calls := s.domains(false)
	if e.TargetInfo.Type == proto.TargetTargetInfoTypePage {
		calls = append(calls, cdpCall{what: "auto-attaching to the popup's frames and workers",
			req: proto.TargetSetAutoAttach{AutoAttach: true, WaitForDebuggerOnStart: true, Flatten: true}})
	}
	if err := s.doAll(s.ctx, child, calls); err != nil {
		s.failure("confining a " + string(e.TargetInfo.Type) + " of the page: " + err.Error())
	}
	_ = s.do(s.ctx, child, proto.RuntimeRunIfWaitingForDebugger{})
}

// quietFlags and quietFeatures turn off what Chromium does on its own
// account (component updater, sync, accounts, network time, autofill
// server, Safe Browsing, variations, domain reliability, optimization
// hints, translate, media router, pings, pre-connects and pre-fetches): a
// certification run contacts no host it did not need. The confinement
// test maps every name to a local sink that must stay empty.
var (
	quietFlags = []string{
		"disable-background-networking", "disable-component-update", "disable-sync",
		"disable-default-apps", "disable-extensions", "disable-client-side-phishing-detection",
		"disable-domain-reliability", "disable-field-trial-config", "no-pings",
		"no-default-browser-check", "metrics-recording-only", "safebrowsing-disable-auto-update",
		"disable-background-timer-throttling", "disable-renderer-backgrounding",
		"disable-search-engine-choice-screen", "no-service-autorun", "password-store=basic",
		"allow-browser-signin=false", "variations-server-url=https://variations.invalid",
		// Chromium's own Google endpoints, sent nowhere (the page's own
		// requests to the same hosts are not affected): sign-in and
		// accounts, Google APIs, the component updater.
		"gaia-url=https://gaia.invalid", "google-apis-url=https://apis.invalid", "lso-url=https://lso.invalid",
		"oauth-account-manager-url=https://oauth.invalid", "component-updater=url-source=https://updates.invalid",
	}
	quietFeatures = []string{
		"IsolateOrigins", "site-per-process", "Translate", "OptimizationHints", "MediaRouter",
		"DialMediaRouteProvider", "AutofillServerCommunication", "CertificateTransparencyComponentUpdater",
		"NetworkTimeServiceQuerying", "SafeBrowsingEnhancedProtection", "InterestFeedContentSuggestions",
		"OptimizationGuideModelDownloading", "PrivacySandboxSettings4", "Prerender2", "NoStatePrefetch",
		"SpeculationRulesPrefetchProxy", "PreconnectToSearch", "LoadingPredictorUseOptimizationGuide",
		"SafeBrowsingAsyncRealTimeCheck",
	}
)

// maxTmpDir is the longest temporary profile path that can also be
// Chromium's TMPDIR: org.chromium.Chromium.XXXXXX/SingletonSocket must fit
// in a Unix socket path.
const maxTmpDir = 60

// profileBase is the folder of the temporary profile: $TMPDIR, unless its
// path is too long to be Chromium's TMPDIR as well, and /tmp exists
// (Chromium given a long TMPDIR, as a CI job's or a test's, aborts at
// start: "Socket path too long").
func profileBase() string {
	base := os.TempDir()
	if len(filepath.Join(base, "qualcert-chromium-1234567890")) <= maxTmpDir {
		return base
	}
	if st, err := os.Stat("/tmp"); err == nil && st.IsDir() {
		return "/tmp"
	}
	return base
}

// resolverRules is the --host-resolver-rules value of cfg ("" = none).
func resolverRules(cfg Config) string {
	// .invalid never resolves (RFC 6761): the service URLs above point there.
	var rules []string
	for _, h := range cfg.AllowHosts {
		rules = append(rules, "EXCLUDE "+h)
	}
	rules = append(rules, "MAP *.invalid ~NOTFOUND")
	for _, h := range cfg.BlockHosts {
		rules = append(rules, "MAP "+h+" ~NOTFOUND")
	}
	if cfg.HostResolverRules != "" {
		rules = append(rules, cfg.HostResolverRules)
	}
	return strings.Join(rules, ", ")
}

// quietPreferences writes the temporary profile's preferences: no network
// prediction (pre-connects and DNS pre-fetches, <link rel=preconnect>
// included), no Safe Browsing, no search suggestions.
func quietPreferences(dir string) error {
	prefs := `{"net":{"network_prediction_options":2},"safebrowsing":{"enabled":false},` +
		`"search":{"suggest_enabled":false},"alternate_error_pages":{"enabled":false},` +
		`"preload":{"preloading":false},"browser":{"check_default_browser":false},` +
		`"signin":{"allowed":false,"allowed_on_next_startup":false},"sync":{"requested":false}}`
	if err := os.MkdirAll(filepath.Join(dir, "Default"), 0o700); err != nil {
		return fmt.Errorf("writing the browser's preferences: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Default", "Preferences"), []byte(prefs), 0o600); err != nil {
		return fmt.Errorf("writing the browser's preferences: %w", err)
	}
	return nil
}

// The page can reach the session's binding (window.<name>) and call it in a
// loop: calls beyond these bounds are dropped, and the first drop is
// reported once through the Failure hook (a marker on the timeline).
const (
	maxBindingCalls   = 3000    // per session (a real page and the kit emit a few dozen)
	maxBindingPayload = 1 << 20 // bytes per call (the kit sends at most 64 KiB of a string)
)

// bindingAllowed counts a binding call of n bytes and says whether it may
// be handed on.
func (s *Session) bindingAllowed(n int) bool {
	s.mu.Lock()
	s.bindingCalls++
	calls, reported := s.bindingCalls, s.bindingDropped
	ok := calls <= maxBindingCalls && n <= maxBindingPayload
	if !ok {
		s.bindingDropped = true
	}
	s.mu.Unlock()
	if !ok && !reported {
		s.failure(fmt.Sprintf("the page flooded the harness binding (call %d, %d bytes; bounds: %d calls, %d bytes): further calls are dropped", calls, n, maxBindingCalls, maxBindingPayload))
	}
	return ok
}
