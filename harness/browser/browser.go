// Package browser drives the headless Chromium of a qualcert run through
// go-rod and the Chrome DevTools Protocol (CDP).
//
// A [Browser] is either launched from an explicit binary (Debian's Chromium;
// go-rod never downloads one) or connected to a remote DevTools endpoint, or
// stands for a Selenium Grid (connect.go, grid.go). One
// Browser serves a whole run; each scenario opens a [Session]: its own
// incognito browser context with one tab, so that cookies and storage never
// leak between scenarios, closed at the end of the scenario whatever happened.
//
// A Session is the low-level half of the harness: it intercepts the URLs it
// is told to (Fetch domain, before DNS, over http and https) and answers them
// with a Go [net/http.Handler], injects scripts before any page script,
// receives the calls of a Runtime binding, and reports requests, console
// messages, exceptions, dialogs (always dismissed), navigations and the load
// event through [Hooks]. It knows nothing of Qualifio: package harness gives
// the events their meaning.
//
//	b, err := browser.Launch(ctx, browser.Config{})
//	defer b.Close()
//	s, err := b.NewSession(ctx, browser.SessionConfig{Intercept: patterns, Handler: h, Hooks: hooks})
//	defer s.Close()
//	err = s.Navigate(ctx, url)
//
// Clean shutdown matters as much as the launch: [Browser.Close] closes the
// browser over CDP, then kills the launched process group and every
// descendant it finds in /proc, and removes the temporary user-data-dir, so
// that a timeout or a panic in a scenario never leaves a Chromium behind.
package browser

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/cdp"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/launcher/flags"
)

// Config chooses the browser: launched from Bin, or connected to URL, or
// one Selenium Grid session per Session (see connect.go and grid.go).
type Config struct {
	Bin string // Chromium binary; "" = looked up (see FindBinary). With Grid: the binary on the grid's nodes ("" = the node's own)
	URL string // remote DevTools endpoint (ws://…, or http://host:port resolved through /json/version) instead of launching

	// PerLoad opens one connection to URL per Session, for endpoints that
	// give a fresh browser per connection (browserless-style). Connect
	// detects such an endpoint by itself; PerLoad forces the mode.
	PerLoad bool
	// Grid is a Selenium Grid 4 URL (http://host:4444): each Session runs
	// in its own WebDriver session, driven through its se:cdp endpoint.
	Grid string
	// GridNoSandbox starts the grid nodes' Chromium without its sandbox
	// (nodes that run it as root, as in a container without user namespaces).
	GridNoSandbox bool

	// BlockHosts are host patterns (*.example.com) a launched browser can
	// never resolve: whatever interception misses (a pre-connect, a target
	// it could not attach to in time) fails instead of reaching them.
	// Intercepted requests are answered before any name resolution.
	BlockHosts []string
	AllowHosts []string // never blocked (the page's own host, even on a blocked domain)
	// HostResolverRules are more --host-resolver-rules of a launched
	// browser, after BlockHosts (tests map every name to a local sink).
	HostResolverRules string
}

// Browser is a launched or connected Chromium.
type Browser struct {
	rod     *rod.Browser
	conn    *wsConn       // the DevTools connection
	exited  chan struct{} // closed when the launched process was reaped (nil when remote)
	pid     int
	dataDir string
	remote  bool

	loads   *perLoad     // set when each Session gets a browser of its own (connect.go)
	release func() error // ends a per-load browser once its connection is closed (grid: the WebDriver session)

	closeOnce sync.Once
	closeErr  error

	conf confinement // routes popups and workers to their session (confine.go)
}

// candidates are the binaries looked up on PATH, in order.
var candidates = []string{"chromium", "chromium-browser", "google-chrome"}

// FindBinary returns bin when set (it must exist), else the first Chromium
// found on PATH, else /usr/bin/chromium when present.
func FindBinary(bin string) (string, error) {
	if bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("browser binary %q: %w", bin, err)
		}
		return p, nil
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	if st, err := os.Stat("/usr/bin/chromium"); err == nil && !st.IsDir() {
		return "/usr/bin/chromium", nil
	}
	return "", fmt.Errorf("no Chromium found (looked for %s on PATH and /usr/bin/chromium): install it with `apt-get install chromium` or pass --browser-bin", strings.Join(candidates, ", "))
}

// launchTimeout bounds the start of Chromium and the CDP connection.
const launchTimeout = 30 * time.Second

// Launch starts Chromium (or connects to cfg.URL).
func Launch(ctx context.Context, cfg Config) (*Browser, error) {
	if cfg.URL != "" || cfg.Grid != "" {
		return connect(ctx, cfg)
	}
	if err := canLaunch(); err != nil {
		return nil, err
	}
	bin, err := FindBinary(cfg.Bin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(profileBase(), "qualcert-chromium-")
	if err != nil { // /tmp not writable: $TMPDIR after all
		dir, err = os.MkdirTemp("", "qualcert-chromium-")
	}
	if err != nil {
		return nil, fmt.Errorf("creating the browser's temporary profile: %w", err)
	}
	// go-rod's launcher only assembles the flags: the process is started
	// here, in its own process group (Close kills the group) and with
	// Pdeathsig, so that Chromium dies with the Go process even when that
	// one is killed or panics before Close.
	l := launchFlags(launcher.New().Bin(bin).Leakless(false).UserDataDir(dir))
	if rules := resolverRules(cfg); rules != "" {
		l = l.Set("host-resolver-rules", rules)
	}
	if err := quietPreferences(dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	cmd := exec.Command(bin, l.FormatArgs()...)
	// Chromium's own temporary files (org.chromium.Chromium.*) go inside
	// the temporary profile, and leave with it; unless its path is too long
	// for the Unix socket Chromium creates there (108 bytes).
	if len(dir) <= maxTmpDir {
		cmd.Env = append(os.Environ(), "TMPDIR="+dir)
	}
	cmd.SysProcAttr = procAttr()
	lctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	parser := launcher.NewURLParser().Context(lctx)
	cmd.Stdout, cmd.Stderr = parser, parser
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("launching Chromium %s: %w", bin, err)
	}
	b := &Browser{pid: cmd.Process.Pid, dataDir: dir, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(b.exited) }()
	var u string
	select {
	case u = <-parser.URL:
	case <-b.exited:
		b.kill()
		return nil, fmt.Errorf("launching Chromium %s: it exited: %w", bin, parser.Err())
	case <-lctx.Done():
		b.kill()
		return nil, fmt.Errorf("launching Chromium %s: no DevTools endpoint: %w", bin, lctx.Err())
	}
	u, err = launcher.ResolveURL(u)
	if err != nil {
		b.kill()
		return nil, fmt.Errorf("launching Chromium %s: resolving its DevTools endpoint: %w", bin, err)
	}
	r, conn, err := dial(ctx, u)
	if err != nil {
		b.kill()
		return nil, fmt.Errorf("connecting to Chromium %s: %w", bin, err)
	}
	b.rod, b.conn = r, conn
	return b, nil
}

// launchFlags adds qualcert's Chromium flags to l: those of a launched
// browser, and those a grid session asks its node for (grid.go).
func launchFlags(l *launcher.Launcher) *launcher.Launcher {
	l = l.Headless(true).
		// Chromium refuses to start as root with its sandbox on; as any
		// other user the sandbox stays on, since the pages are third-party.
		NoSandbox(os.Geteuid() == 0).
		Set("no-first-run").
		Set("disable-quic").
		Set("disable-breakpad").
		Set("disable-crash-reporter").
		Set("mute-audio").
		Set("hide-scrollbars").
		// Keep cross-origin iframes in the page's renderer so that the
		// page-level Fetch interception sees the campaign iframe's own
		// requests (see Session for what happens with a remote browser).
		Set("disable-site-isolation-trials").
		// Chromium's own background traffic off (confine.go).
		Set("disable-features", quietFeatures...)
	for _, f := range quietFlags {
		name, val, _ := strings.Cut(f, "=")
		if val != "" {
			l = l.Set(flags.Flag(name), val)
		} else {
			l = l.Set(flags.Flag(name))
		}
	}
	return l
}

// dial connects go-rod to a DevTools endpoint. The connection lives as long
// as the Browser (go-rod ties its event stream to the context given at
// connection), so the deadline is enforced around the call instead. The
// WebSocket is kept so that a remote browser can be left without closing it.
func dial(ctx context.Context, wsURL string) (*rod.Browser, *wsConn, error) {
	type conn struct {
		b   *rod.Browser
		ws  *wsConn
		err error
	}
	done := make(chan conn, 1)
	dctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	go func() {
		ws, err := dialWS(dctx, wsURL)
		if err != nil {
			done <- conn{err: err}
			return
		}
		r := rod.New().Client(cdp.New().Start(ws))
		if err := r.Connect(); err != nil {
			_ = ws.Close()
			done <- conn{err: err}
			return
		}
		done <- conn{b: r, ws: ws}
	}()
	select {
	case c := <-done:
		return c.b, c.ws, c.err
	case <-dctx.Done():
		go func() { // a connection that completes late is dropped
			if c := <-done; c.ws != nil {
				_ = c.ws.Close()
			}
		}()
		return nil, nil, fmt.Errorf("no answer within %s: %w", launchTimeout, dctx.Err())
	}
}

// PID is the launched browser's process id (0 when remote).
func (b *Browser) PID() int { return b.pid }

// UserDataDir is the temporary profile of the launched browser ("" when remote).
func (b *Browser) UserDataDir() string { return b.dataDir }

// Remote reports whether the browser was connected rather than launched.
func (b *Browser) Remote() bool { return b.remote }

// Rod exposes the go-rod browser for callers that need raw CDP.
func (b *Browser) Rod() *rod.Browser { return b.rod }

// Close shuts the browser down: for a launched one, a CDP Browser.close,
// then SIGKILL to its process group and to any descendant left, and the
// removal of its temporary profile. A remote browser is only disconnected.
// Close is idempotent.
func (b *Browser) Close() error {
	b.closeOnce.Do(func() {
		if b.loads != nil {
			b.closeErr = b.loads.close()
			return
		}
		if b.remote {
			// A remote browser belongs to its pool: only our connection
			// goes (each Session disposed of its own context already).
			if b.conn != nil {
				_ = b.conn.Close()
			}
			if b.release != nil {
				b.closeErr = b.release()
			}
			return
		}
		if b.rod != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_ = b.rod.Context(ctx).Close()
			cancel()
		}
		b.kill()
	})
	return b.closeErr
}

// kill ends every process of the launched browser and removes its profile.
func (b *Browser) kill() {
	if b.pid > 0 {
		procs := Processes(b.pid)
		killAll(b.pid, procs)
		deadline := time.Now().Add(10 * time.Second)
		if b.exited != nil {
			select {
			case <-b.exited: // reaped
			case <-time.After(10 * time.Second):
				b.closeErr = fmt.Errorf("chromium (pid %d) did not exit after SIGKILL", b.pid)
			}
		}
		// The children are not ours to reap, but Close promises that none
		// is left: await each one's exit (SIGKILL is delivered, not
		// instantaneous) before returning.
		for _, p := range procs {
			if err := awaitExit(p, time.Until(deadline)); err != nil && b.closeErr == nil {
				b.closeErr = fmt.Errorf("chromium process %d: %w", p, err)
			}
		}
	}
	if b.dataDir != "" {
		if err := os.RemoveAll(b.dataDir); err != nil && b.closeErr == nil {
			b.closeErr = fmt.Errorf("removing the browser's temporary profile: %w", err)
		}
	}
}

// ErrClosed is returned by a Session used after Close.
var ErrClosed = errors.New("browser session closed")
