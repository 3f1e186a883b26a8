package browser

// Remote browsers: a DevTools endpoint given as ws://… or http://host:port,
// shared by every Session or, for endpoints that start a fresh browser per
// connection (browserless and its kind), one connection per Session; and
// Selenium Grid 4 sessions (grid.go), one per Session.
//
// Whatever the endpoint, a Session is the same incognito context and tab;
// only where its browser comes from changes. A Session with a browser of its
// own ends it on Close (the connection closed, the grid session deleted),
// and the Browser's Close ends whatever a Session left, including a grid
// session whose creation a cancelled run gave up waiting for.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/go-rod/rod/lib/proto"
)

// ParseEndpoint checks a DevTools endpoint as --browser-url takes it:
// ws://host:port/… or wss://… (a WebSocket URL, used as it is), or
// http://host:port or https://… (resolved through its /json/version, as
// go-rod's launcher.ResolveURL and Playwright's connectOverCDP do).
func ParseEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("browser URL %q: %w", raw, err)
	}
	switch u.Scheme {
	case "ws", "wss", "http", "https":
	default:
		return nil, fmt.Errorf("browser URL %q: want ws://host:port/… (a DevTools WebSocket) or http://host:port (a DevTools HTTP endpoint)", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("browser URL %q: no host", raw)
	}
	if u.Port() != "" {
		var port int
		if _, err := fmt.Sscanf(u.Port(), "%d", &port); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("browser URL %q: bad port %q", raw, u.Port())
		}
	}
	return u, nil
}

// ResolveEndpoint turns a DevTools endpoint into its WebSocket URL: a ws://
// or wss:// URL as it is; for http(s)://host:port, the webSocketDebuggerUrl
// that host's /json/version gives, with the host (and the query, such as a
// browserless token) of the URL given, since a browser behind a proxy or in
// a container names an address of its own.
func ResolveEndpoint(ctx context.Context, raw string) (string, error) {
	u, err := ParseEndpoint(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme == "ws" || u.Scheme == "wss" {
		return u.String(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	v := *u
	v.Path = strings.TrimSuffix(u.Path, "/") + "/json/version"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.String(), nil)
	if err != nil {
		return "", fmt.Errorf("resolving the DevTools endpoint %s: %w", raw, err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("resolving the DevTools endpoint %s: %w", raw, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("resolving the DevTools endpoint %s: reading /json/version: %w", raw, err)
	}
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("resolving the DevTools endpoint %s: /json/version answered %s", raw, res.Status)
	}
	var version struct {
		WS string `json:"webSocketDebuggerUrl"`
	}
	if err := json.Unmarshal(body, &version); err != nil || version.WS == "" {
		return "", fmt.Errorf("resolving the DevTools endpoint %s: /json/version has no webSocketDebuggerUrl (is it a Chromium DevTools endpoint?)", raw)
	}
	ws, err := url.Parse(version.WS)
	if err != nil {
		return "", fmt.Errorf("resolving the DevTools endpoint %s: webSocketDebuggerUrl %q: %w", raw, version.WS, err)
	}
	ws.Host = u.Host
	ws.Scheme = "ws"
	if u.Scheme == "https" {
		ws.Scheme = "wss"
	}
	if ws.RawQuery == "" {
		ws.RawQuery = u.RawQuery
	}
	return ws.String(), nil
}

// connect connects to cfg.URL, or prepares the grid of cfg.Grid.
func connect(ctx context.Context, cfg Config) (*Browser, error) {
	if cfg.Grid != "" {
		return connectGrid(ctx, cfg)
	}
	wsURL, err := ResolveEndpoint(ctx, cfg.URL)
	if err != nil {
		return nil, err
	}
	open := func(ctx context.Context) (*Browser, error) {
		r, conn, err := dial(ctx, wsURL)
		if err != nil {
			return nil, fmt.Errorf("connecting to the browser at %s: %w", redactURL(wsURL), err)
		}
		return &Browser{rod: r, conn: conn, remote: true}, nil
	}
	if cfg.PerLoad {
		return &Browser{remote: true, loads: newPerLoad(open)}, nil
	}
	b, err := open(ctx)
	if err != nil {
		return nil, err
	}
	fresh, err := freshPerConnection(ctx, b, open)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("connecting to the browser at %s: %w", redactURL(wsURL), err)
	}
	if fresh {
		_ = b.Close()
		return &Browser{remote: true, loads: newPerLoad(open)}, nil
	}
	return b, nil
}

// freshPerConnection tells whether the endpoint gives each connection a
// browser of its own: a browser context created on b is looked for from a
// second connection. A shared browser lists it; a fresh one does not.
func freshPerConnection(ctx context.Context, b *Browser, open func(context.Context) (*Browser, error)) (bool, error) {
	c, cancel := bounded(ctx)
	created, err := proto.TargetCreateBrowserContext{}.Call(b.rod.Context(c))
	cancel()
	if err != nil {
		return false, fmt.Errorf("probing the endpoint: creating a browser context: %w", err)
	}
	defer func() {
		c, cancel := bounded(context.WithoutCancel(ctx))
		defer cancel()
		_ = proto.TargetDisposeBrowserContext{BrowserContextID: created.BrowserContextID}.Call(b.rod.Context(c))
	}()
	other, err := open(ctx)
	if err != nil {
		return false, fmt.Errorf("probing the endpoint with a second connection: %w", err)
	}
	defer other.Close()
	c, cancel = bounded(ctx)
	defer cancel()
	listed, err := proto.TargetGetBrowserContexts{}.Call(other.rod.Context(c))
	if err != nil {
		return false, fmt.Errorf("probing the endpoint: listing browser contexts: %w", err)
	}
	for _, id := range listed.BrowserContextIDs {
		if id == created.BrowserContextID {
			return false, nil
		}
	}
	return true, nil
}

// redactURL drops the query of an endpoint URL (a browserless token) for
// error messages.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return raw
	}
	u.RawQuery = "…"
	return u.String()
}

// NewSession opens an incognito context and a tab in it, wired to cfg: in
// the shared browser, or in a browser of the Session's own (a connection of
// its own to a per-connection endpoint, a grid session), ended by its Close.
func (b *Browser) NewSession(ctx context.Context, cfg SessionConfig) (*Session, error) {
	if b.loads == nil {
		return b.openSession(ctx, cfg)
	}
	own, err := b.loads.get(ctx)
	if err != nil {
		return nil, err
	}
	s, err := own.openSession(ctx, cfg)
	if err != nil {
		return nil, errors.Join(err, b.loads.put(own))
	}
	s.release = func() error { return b.loads.put(own) }
	return s, nil
}

// PerLoad reports whether each Session gets a browser of its own (a grid
// session, a connection to a per-connection endpoint).
func (b *Browser) PerLoad() bool { return b.loads != nil }

// ErrBrowserClosed is returned by NewSession on a Browser already closed.
var ErrBrowserClosed = errors.New("browser closed")

// perLoad hands out a browser per Session and keeps track of them, so that
// Close ends every one still open and waits for those being ended.
type perLoad struct {
	open func(context.Context) (*Browser, error)

	mu     sync.Mutex
	live   map[*Browser]struct{}
	closed bool
	// ending tracks browsers (grid sessions) being ended in the
	// background, among them those created after their caller gave up.
	ending sync.WaitGroup
}

func newPerLoad(open func(context.Context) (*Browser, error)) *perLoad {
	return &perLoad{open: open, live: map[*Browser]struct{}{}}
}

// get opens a browser for one Session.
func (p *perLoad) get(ctx context.Context) (*Browser, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrBrowserClosed
	}
	p.ending.Add(1) // Close waits for an open in progress
	p.mu.Unlock()
	defer p.ending.Done()
	b, err := p.open(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.Join(ErrBrowserClosed, b.Close())
	}
	p.live[b] = struct{}{}
	return b, nil
}

// put ends a browser that get gave.
func (p *perLoad) put(b *Browser) error {
	p.mu.Lock()
	delete(p.live, b)
	p.mu.Unlock()
	return b.Close()
}

// background runs f (ending a browser) so that close waits for it.
func (p *perLoad) background(f func()) {
	p.ending.Go(f)
}

// close ends every browser still open and waits for those being opened or
// ended.
func (p *perLoad) close() error {
	p.mu.Lock()
	p.closed = true
	live := make([]*Browser, 0, len(p.live))
	for b := range p.live {
		live = append(live, b)
	}
	p.live = map[*Browser]struct{}{}
	p.mu.Unlock()
	errs := make([]error, len(live))
	var wg sync.WaitGroup
	for i, b := range live {
		wg.Go(func() { errs[i] = b.Close() })
	}
	wg.Wait()
	p.ending.Wait()
	return errors.Join(errs...)
}
