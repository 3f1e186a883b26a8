package browser

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/launcher"
)

// shared is the package's one launched browser.
var shared *Browser

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	b, err := Launch(ctx, Config{})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "launching the shared browser:", err)
		os.Exit(1)
	}
	shared = b
	code := m.Run()
	pid, dir := b.PID(), b.UserDataDir()
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing:", err)
		code = 1
	}
	if left := Processes(pid); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "chromium processes left after Close: %v\n", left)
		code = 1
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "temporary profile %s left after Close\n", dir)
		code = 1
	}
	os.Exit(code)
}

func TestFindBinary(t *testing.T) {
	if _, err := FindBinary("/nonexistent/chromium"); err == nil || !strings.Contains(err.Error(), "/nonexistent/chromium") {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("PATH", t.TempDir())
	bin, err := FindBinary("")
	if _, statErr := os.Stat("/usr/bin/chromium"); statErr == nil {
		if err != nil || bin != "/usr/bin/chromium" {
			t.Fatalf("FindBinary = %q, %v; want the /usr/bin/chromium fallback", bin, err)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), "apt-get install chromium") {
		t.Fatalf("err = %v, want one naming apt-get install chromium", err)
	}
}

func TestLaunchAndCloseLeaveNothing(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Launch(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.NewSession(ctx, SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Navigate(ctx, "about:blank"); err != nil {
		t.Fatal(err)
	}
	if n := len(Processes(b.PID())); n < 2 {
		t.Fatalf("%d processes for a running browser with a tab, want several", n)
	}
	// Close the browser without closing the session first, as after a panic.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if left := Processes(b.PID()); len(left) > 0 {
		t.Fatalf("processes left: %v", left)
	}
	if _, err := os.Stat(b.UserDataDir()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("profile dir left: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestLaunchWithALongTMPDIR: a TMPDIR too long for Chromium's socket (a CI
// job's, a test's t.TempDir) does not stop the browser from starting, and
// nothing is left in it or in /tmp.
func TestLaunchWithALongTMPDIR(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 70))
	if err := os.MkdirAll(long, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", long)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Launch(ctx, Config{})
	if err != nil {
		t.Fatalf("launching with TMPDIR of %d bytes: %v", len(long), err)
	}
	dir := b.UserDataDir()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if len(dir) > maxTmpDir {
		t.Errorf("temporary profile %s is too long to be Chromium's TMPDIR", dir)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("profile dir left: %v", err)
	}
	if left, _ := os.ReadDir(long); len(left) > 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

// iframeSite serves a page on 127.0.0.1 that embeds a cross-origin iframe
// from frame.test (intercepted), whose own script POSTs to its host.
func iframeSite(t *testing.T) (pageURL string, posts chan string, handler http.Handler) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><body><iframe src="http://frame.test/inner.html"></iframe></body>`)
	}))
	t.Cleanup(srv.Close)
	posts = make(chan string, 4)
	handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/inner.html":
			fmt.Fprint(w, `<!doctype html><body>inner<script>
fetch('/__qualcert/verify', {method: 'POST', body: 'token-from-the-iframe'});
</script></body>`)
		case "/__qualcert/verify":
			b, _ := io.ReadAll(r.Body)
			posts <- r.Method + " " + r.Host + " " + string(b)
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	})
	return srv.URL, posts, handler
}

func expectIframePost(t *testing.T, b *Browser, oopif bool) {
	t.Helper()
	expectIframePostWithin(t, b, oopif, 20*time.Second)
}

// expectIframePostWithin is expectIframePost with its own deadline (a
// grid session or a pool browser starts a Chromium first).
func expectIframePostWithin(t *testing.T, b *Browser, oopif bool, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	u, posts, h := iframeSite(t)
	s, err := b.NewSession(ctx, SessionConfig{Intercept: []string{"*://frame.test/*"}, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Navigate(ctx, u); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-posts:
		if got != "POST frame.test token-from-the-iframe" {
			t.Fatalf("intercepted %q", got)
		}
		if n := s.OutOfProcessFrames(); (n > 0) != oopif {
			t.Fatalf("%d out-of-process frames, want them: %v", n, oopif)
		}
	case <-ctx.Done():
		t.Fatal("the iframe's own POST was not intercepted")
	}
}

func TestCrossOriginIframeRequestsAreIntercepted(t *testing.T) {
	t.Parallel()
	expectIframePost(t, shared, false)
}

// A cross-origin iframe's documents get the session's scripts, in the
// page's world and in the isolated World, and the World's binding, out
// of the frame's own scripts' reach: in the tab's process as out of it.
func TestCrossOriginIframeGetsTheScripts(t *testing.T) {
	t.Parallel()
	expectIframeScripts(t, shared, false)
}

// expectIframeScripts loads a page on 127.0.0.1 with an iframe of
// frame.test (intercepted) and wants, from the frame: the World script's
// call of the binding, and the frame's own script's report that it saw
// the page-world script's mark and no binding.
func expectIframeScripts(t *testing.T, b *Browser, oopif bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><body><iframe src="http://frame.test/widget.html"></iframe></body>`)
	}))
	defer srv.Close()
	seen := make(chan string, 8)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/widget.html":
			fmt.Fprint(w, `<!doctype html><body>widget<script>
fetch('/report', {method: 'POST', body: 'shim=' + (window.__shimMark || 0) + ' binding=' + typeof window.__testEmit});
</script></body>`)
		case "/report":
			body, _ := io.ReadAll(r.Body)
			seen <- "frame " + string(body)
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	})
	s, err := b.NewSession(ctx, SessionConfig{
		Intercept: []string{"*://frame.test/*"}, Handler: h,
		Binding: "__testEmit", World: "qualcert-test",
		WorldScripts: []string{`if (window.top !== window && location.host === 'frame.test') __testEmit('world ' + location.host);`},
		Scripts:      []string{`window.__shimMark = 1;`},
		Hooks:        Hooks{Binding: func(p string) { seen <- p }},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Navigate(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"world frame.test": true, "frame shim=1 binding=undefined": true}
	for len(want) > 0 {
		select {
		case got := <-seen:
			if !want[got] {
				t.Fatalf("got %q, want one of %v", got, want)
			}
			delete(want, got)
		case <-ctx.Done():
			t.Fatalf("the iframe never said %v", want)
		}
	}
	if n := s.OutOfProcessFrames(); (n > 0) != oopif {
		t.Fatalf("%d out-of-process frames, want them: %v", n, oopif)
	}
}

// A remote browser with site isolation on puts the iframe out of process:
// the session must auto-attach to it to intercept its requests.
func TestRemoteBrowserWithSiteIsolation(t *testing.T) {
	t.Parallel()
	bin, err := FindBinary("")
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	l := launcher.New().Bin(bin).Leakless(false).UserDataDir(dir).Headless(true).NoSandbox(true).
		Delete("disable-site-isolation-trials").Delete("disable-features").Set("site-per-process").
		Set("disable-background-networking").Set("disable-component-update").Set("disable-sync").Set("no-first-run").Set("disable-quic")
	u, err := l.Launch()
	if err != nil {
		t.Fatal(err)
	}
	remotePID := l.PID()
	t.Cleanup(func() {
		l.Kill()
		l.Cleanup()
		if left := Processes(remotePID); len(left) > 0 {
			t.Errorf("remote browser processes left: %v", left)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := Launch(ctx, Config{URL: u})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if !b.Remote() || b.PID() != 0 {
		t.Fatalf("remote = %v, pid = %d", b.Remote(), b.PID())
	}
	expectIframePost(t, b, true)
	expectIframeScripts(t, b, true)
	expectSyncThroughIframe(t, b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Leaving a remote browser does not close it.
	if n := len(Processes(remotePID)); n == 0 {
		t.Fatal("closing our connection killed the remote browser")
	}
}

func TestDialogsAreDismissed(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<script>alert('a'); var c = confirm('b'); var p = prompt('c', 'x'); document.title = c + '/' + p;</script>`)
	}))
	defer srv.Close()
	var mu sync.Mutex
	var got []string
	loaded := make(chan struct{}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := shared.NewSession(ctx, SessionConfig{Hooks: Hooks{
		Dialog: func(d Dialog) { mu.Lock(); got = append(got, d.Type+":"+d.Message); mu.Unlock() },
		Loaded: func() { loaded <- struct{}{} },
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Navigate(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-loaded:
	case <-ctx.Done():
		t.Fatal("page never loaded: a dialog was left open")
	}
	title, err := s.Eval(ctx, `document.title`)
	if err != nil {
		t.Fatal(err)
	}
	if string(title) != `"false/null"` {
		t.Fatalf("title = %s, want dismissed confirm and prompt", title)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(got, ",") != "alert:a,confirm:b,prompt:c" {
		t.Fatalf("dialogs = %v", got)
	}
}

// loopingSession opens a session with cfg on a page whose main thread
// never yields (while(true){}) and returns once the loop has started.
func loopingSession(t *testing.T, ctx context.Context, cfg SessionConfig) *Session {
	t.Helper()
	looping := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/looping" {
			looping <- struct{}{}
			return
		}
		fmt.Fprint(w, `<script>navigator.sendBeacon('/looping'); while(true){}</script>`)
	}))
	t.Cleanup(srv.Close)
	s, err := shared.NewSession(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Navigate(ctx, srv.URL)
	select {
	case <-looping:
	case <-ctx.Done():
		_ = s.Close()
		t.Fatal("the page never started its loop")
	}
	return s
}

func TestCloseDoesNotHangOnAnEndlessLoop(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := loopingSession(t, ctx, SessionConfig{})
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	if _, err := s.Eval(short, `1+1`); err == nil {
		t.Fatal("evaluating in a page stuck in a loop should hit the deadline")
	}
	cancelShort()
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("closing the session of a looping page hangs")
	}
}

func TestNavigationErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := shared.NewSession(ctx, SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ne *NavigationError
	if err := s.Navigate(ctx, "http://127.0.0.1:1/"); !errors.As(err, &ne) {
		t.Fatalf("refused connection: err = %v, want a NavigationError", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	defer srv.Close()
	if err := s.Navigate(ctx, srv.URL); err != nil {
		t.Fatalf("a 502 answer is reachable: %v", err)
	}
}

// A handler that panics must not leave its request paused until the
// scenario's timeout: the request fails at once, and the panic is reported.
func TestAPanickingHandlerFailsItsRequestAndIsReported(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<script>window.outcome = fetch('http://boom.test/x').then(() => 'answered', () => 'failed');</script>`)
	}))
	defer srv.Close()
	failures := make(chan string, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := shared.NewSession(ctx, SessionConfig{
		Intercept: []string{"*://boom.test/*"},
		Handler:   http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("handler bug") }),
		Hooks:     Hooks{Failure: func(what string) { failures <- what }},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Navigate(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	select {
	case what := <-failures:
		if !strings.Contains(what, "handler bug") {
			t.Fatalf("failure %q does not carry the panic", what)
		}
	case <-ctx.Done():
		t.Fatal("the panic was not reported")
	}
	// the page sees a failed fetch, not a hang (Eval awaits the promise)
	outcome, err := s.Eval(ctx, `window.outcome`)
	if err != nil {
		t.Fatalf("the paused request was never settled: %v", err)
	}
	if string(outcome) != `"failed"` {
		t.Fatalf("fetch outcome %s, want failed", outcome)
	}
}

// expectSyncThroughIframe: an out-of-process iframe's recorder calls the
// binding ("start"), keeps its renderer busy for 2.5 s, then calls it
// again ("late"). A Sync begun once "start" was handled returns only after
// "late" was: its marker goes through that iframe too (the top frame's
// marker alone, from another renderer, comes back at once).
func expectSyncThroughIframe(t *testing.T, b *Browser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><body><iframe src="http://frame.test/busy.html"></iframe></body>`)
	}))
	defer srv.Close()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><body>busy widget</body>`)
	})
	started := make(chan struct{}, 1)
	var late atomic.Bool
	s, err := b.NewSession(ctx, SessionConfig{
		Intercept: []string{"*://frame.test/*"}, Handler: h,
		Binding: "__testEmit", World: "qualcert-test",
		WorldScripts: []string{`if (location.host === 'frame.test') document.addEventListener('DOMContentLoaded', function () {
  __testEmit('start');
  var t = Date.now(); while (Date.now() - t < 2500) {}
  __testEmit('late');
});`},
		Hooks: Hooks{Binding: func(p string) {
			switch p {
			case "start":
				started <- struct{}{}
			case "late":
				late.Store(true)
			}
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Navigate(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the iframe's recorder never called the binding")
	}
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !late.Load() {
		t.Fatal("Sync returned before the out-of-process iframe's earlier binding call was handled")
	}
}
