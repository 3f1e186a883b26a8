package browser

// Selenium Grid 4: the grid gives a browser per WebDriver session and
// exposes its DevTools only per session, as the se:cdp capability of the
// new session (a WebSocket the grid proxies to the node's Chromium). So
// each Session here is one grid session:
//
//	POST   {grid}/session           Chromium options: headless, qualcert's flags, the binary
//	dial   se:cdp                   the Session runs over it as over any browser
//	DELETE {grid}/session/{id}      on Session.Close, and by Browser.Close for any left
//
// A session must never be left on the grid, where it holds a slot until the
// grid's own timeout (300 s by default): a run that fails, times out or is
// interrupted still deletes each session it created, including one that the
// grid created after the run gave up waiting for it (the creation is not
// cancelled with the run; Browser.Close waits for it and deletes it).

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/launcher/flags"
)

const (
	// gridCreateTimeout bounds a new session request: the grid queues it
	// while every slot is busy, then starts chromedriver and Chromium.
	gridCreateTimeout = 2 * time.Minute
	// gridCallTimeout bounds the other grid calls (status, delete).
	gridCallTimeout = 30 * time.Second
)

// ParseGrid checks a Selenium Grid URL as --grid takes it: http(s)://host:port,
// with an optional path prefix (http://host:4444/wd/hub).
func ParseGrid(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, fmt.Errorf("grid URL %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("grid URL %q: want http://host:port (a Selenium Grid 4 router or standalone)", raw)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("grid URL %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("grid URL %q: no query or fragment expected", raw)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// grid is a Selenium Grid 4 endpoint.
type grid struct {
	base   *url.URL
	client *http.Client
	caps   map[string]any
}

// connectGrid checks that the grid is up and returns a Browser whose
// Sessions each run in a grid session of their own.
func connectGrid(ctx context.Context, cfg Config) (*Browser, error) {
	u, err := ParseGrid(cfg.Grid)
	if err != nil {
		return nil, err
	}
	g := &grid{base: u, client: &http.Client{}, caps: gridCapabilities(cfg)}
	if err := g.ready(ctx); err != nil {
		return nil, err
	}
	b := &Browser{remote: true}
	b.loads = newPerLoad(func(ctx context.Context) (*Browser, error) { return g.open(ctx, b.loads) })
	return b, nil
}

// gridCapabilities are the W3C capabilities of a new session: Chromium
// with the flags of a launched browser (less those chromedriver owns: the
// DevTools port, the profile folder, the start-up window it drives).
func gridCapabilities(cfg Config) map[string]any {
	l := launchFlags(launcher.New()).NoSandbox(cfg.GridNoSandbox)
	for _, f := range []flags.Flag{flags.Bin, flags.Leakless, flags.UserDataDir, flags.RemoteDebuggingPort, "no-startup-window"} {
		l.Delete(f)
	}
	chrome := map[string]any{"args": l.FormatArgs()}
	if cfg.Bin != "" {
		chrome["binary"] = cfg.Bin
	}
	return map[string]any{
		"browserName":        "chrome",
		"goog:chromeOptions": chrome,
		// Dialogs are the Session's to dismiss and record (over CDP).
		"unhandledPromptBehavior": "ignore",
		"se:name":                 "qualcert",
	}
}

// wdError is a WebDriver error answer.
type wdError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// call sends one WebDriver request and decodes the "value" of its answer.
func (g *grid) call(ctx context.Context, method, path string, body, value any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	u := *g.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		// The grid wants the charset said.
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	res, err := g.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s: not a WebDriver answer: %.200q", res.Status, raw)
	}
	if res.StatusCode/100 != 2 {
		var we wdError
		if json.Unmarshal(env.Value, &we) == nil && we.Error != "" {
			return &gridError{Status: res.StatusCode, Code: we.Error, Message: we.Message}
		}
		return fmt.Errorf("%s: %.200q", res.Status, raw)
	}
	if value != nil {
		if err := json.Unmarshal(env.Value, value); err != nil {
			return fmt.Errorf("reading the answer: %w", err)
		}
	}
	return nil
}

// gridError is an error the grid answered with.
type gridError struct {
	Status  int
	Code    string // WebDriver error code: "session not created", "invalid session id"…
	Message string
}

func (e *gridError) Error() string {
	msg, _, _ := strings.Cut(e.Message, "\n") // the first line; the rest is a stack trace
	return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, msg)
}

// ready checks the grid's /status.
func (g *grid) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, gridCallTimeout)
	defer cancel()
	var st struct {
		Ready   bool   `json:"ready"`
		Message string `json:"message"`
	}
	if err := g.call(ctx, http.MethodGet, "/status", nil, &st); err != nil {
		return fmt.Errorf("Selenium Grid at %s: %w", g.base, err)
	}
	if !st.Ready {
		return fmt.Errorf("Selenium Grid at %s is not ready: %s", g.base, st.Message)
	}
	return nil
}

// created is a new grid session, or why there is none.
type created struct {
	id, cdp string
	err     error
}

// create asks the grid for a new session.
func (g *grid) create(ctx context.Context) created {
	var v struct {
		SessionID    string         `json:"sessionId"`
		Capabilities map[string]any `json:"capabilities"`
	}
	body := map[string]any{"capabilities": map[string]any{"alwaysMatch": g.caps}}
	if err := g.call(ctx, http.MethodPost, "/session", body, &v); err != nil {
		return created{err: err}
	}
	if v.SessionID == "" {
		return created{err: errors.New("the grid answered without a session id")}
	}
	cdp, _ := v.Capabilities["se:cdp"].(string)
	return created{id: v.SessionID, cdp: cdp}
}

// delete ends a grid session; one the grid no longer knows is gone already.
func (g *grid) delete(id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), gridCallTimeout)
	defer cancel()
	err := g.call(ctx, http.MethodDelete, "/session/"+url.PathEscape(id), nil, nil)
	var ge *gridError
	if errors.As(err, &ge) && ge.Code == "invalid session id" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting grid session %s: %w", id, err)
	}
	return nil
}

// open creates a grid session and connects to its se:cdp endpoint. The
// creation outlives a cancelled ctx: when the caller stopped waiting, the
// session the grid creates anyway is deleted in the background (tracked
// by loads, whose close waits for it).
func (g *grid) open(ctx context.Context, loads *perLoad) (*Browser, error) {
	var (
		mu        sync.Mutex
		abandoned bool
		done      = make(chan created, 1)
	)
	loads.background(func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), gridCreateTimeout)
		c := g.create(cctx)
		cancel()
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			if c.id != "" {
				_ = g.delete(c.id)
			}
			return
		}
		done <- c
	})
	var c created
	select {
	case c = <-done:
	case <-ctx.Done():
		mu.Lock()
		abandoned = true
		select {
		case c = <-done: // created just now: end it here
			mu.Unlock()
			if c.id != "" {
				_ = g.delete(c.id)
			}
		default:
			mu.Unlock()
		}
		return nil, fmt.Errorf("creating a Selenium Grid session: %w", ctx.Err())
	}
	if c.err != nil {
		return nil, fmt.Errorf("creating a Selenium Grid session at %s: %w", g.base, c.err)
	}
	if c.cdp == "" {
		err := errors.New("the grid gave no se:cdp endpoint (is CDP enabled on the grid, and is the node's browser Chromium?)")
		return nil, errors.Join(fmt.Errorf("grid session %s: %w", c.id, err), g.delete(c.id))
	}
	r, conn, err := dial(ctx, c.cdp)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("connecting to grid session %s at %s: %w", c.id, c.cdp, err), g.delete(c.id))
	}
	id := c.id
	return &Browser{rod: r, conn: conn, remote: true, release: func() error { return g.delete(id) }}, nil
}
