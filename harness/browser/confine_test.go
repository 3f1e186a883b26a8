package browser

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// sink accepts every connection Chromium makes to a name that is not
// loopback (the browser's --host-resolver-rules send them all here), and
// remembers the first bytes of each.
type sink struct {
	ln   *net.TCPListener
	mu   sync.Mutex
	seen []string
	wg   sync.WaitGroup
}

func newSink(t *testing.T) *sink {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
				buf := make([]byte, 8192)
				n := 0
				for n < len(buf) {
					m, err := c.Read(buf[n:])
					n += m
					if err != nil || (n > 5 && buf[0] == 0x16 && n >= 5+(int(buf[3])<<8|int(buf[4]))) || (n > 0 && buf[0] != 0x16 && strings.Contains(string(buf[:n]), "\r\n\r\n")) {
						break
					}
				}
				s.mu.Lock()
				s.seen = append(s.seen, describeConn(buf[:n]))
				s.mu.Unlock()
			}()
		}
	}()
	return s
}

// describeConn names what a connection started with: an HTTP request line,
// or a TLS ClientHello and its server name.
func describeConn(b []byte) string {
	if len(b) > 5 && b[0] == 0x16 {
		return "TLS " + serverName(b)
	}
	line, rest, _ := strings.Cut(string(b), "\r\n")
	for _, h := range strings.Split(rest, "\r\n") {
		if strings.HasPrefix(strings.ToLower(h), "host:") {
			line += " (" + h + ")"
		}
	}
	return line
}

// serverName reads the SNI of a TLS ClientHello record ("?" when absent).
func serverName(b []byte) string {
	// record(5) handshake(4) version(2) random(32)
	i := 5 + 4 + 2 + 32
	if i >= len(b) {
		return "?"
	}
	i += 1 + int(b[i]) // session id
	if i+2 > len(b) {
		return "?"
	}
	i += 2 + int(b[i])<<8 | int(b[i+1]) // cipher suites
	if i >= len(b) {
		return "?"
	}
	i += 1 + int(b[i]) // compression
	i += 2             // extensions length
	for i+4 <= len(b) {
		typ, n := int(b[i])<<8|int(b[i+1]), int(b[i+2])<<8|int(b[i+3])
		i += 4
		if typ == 0 && i+5 <= len(b) {
			l := int(b[i+3])<<8 | int(b[i+4])
			if i+5+l <= len(b) {
				return string(b[i+5 : i+5+l])
			}
		}
		i += n
	}
	return "?"
}

// drain stops the sink and returns every connection it saw, the ones still
// in the kernel's accept queue included.
func (s *sink) drain() []string {
	_ = s.ln.Close()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// hostilePage serves a publisher page that tries every way around the
// tab's interception to fetch Qualifio's real kit: a popup on the kit URL,
// a service worker with a network pass-through (Workbox-style) and a
// direct fetch of its own, a dedicated and a shared worker fetching it,
// <link rel=preconnect> and dns-prefetch to the intercepted hosts. Each
// attempt that reaches the page's origin reports on /done.
const hostilePage = `<!doctype html>
<link rel="preconnect" href="https://jeux.example.com">
<link rel="preconnect" href="https://files.qualifio.com" crossorigin>
<link rel="dns-prefetch" href="https://cdn.qualifioapp.com">
<link rel="prefetch" href="https://files.qualifio.com/kit/qualp.prefetch.js">
<body>hostile
<script>
var kit = 'https://files.qualifio.com/kit/';
new Worker('/worker.js');
new SharedWorker('/shared.js');
window.open(kit + 'qualp.popup.js', 'pop');
navigator.serviceWorker.register('/sw.js');
navigator.serviceWorker.addEventListener('controllerchange', function () {
  fetch(kit + 'qualp.swpass.js', {mode: 'no-cors'});
});
</script>`

var hostileScripts = map[string]string{
	"/worker.js": `fetch('https://files.qualifio.com/kit/qualp.worker.js', {mode: 'no-cors'});`,
	"/shared.js": `fetch('https://files.qualifio.com/kit/qualp.shared.js', {mode: 'no-cors'});`,
	"/sw.js": `self.addEventListener('install', function (e) { self.skipWaiting(); });
self.addEventListener('activate', function (e) {
  e.waitUntil(clients.claim().then(function () { return fetch('https://files.qualifio.com/kit/qualp.sw.js', {mode: 'no-cors'}); }));
});
self.addEventListener('fetch', function (e) { e.respondWith(fetch(e.request)); });`,
}

// TestConfinement: with every non-loopback name sent to a sink, a hostile
// page's popup, service worker (direct and pass-through), dedicated and
// shared workers all get Qualifio's kit from the session's handler, and
// nothing (neither those, nor a pre-connect, nor Chromium's own
// background services) reaches the sink.
func TestConfinement(t *testing.T) {
	t.Parallel()
	sk := newSink(t)
	port := sk.ln.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	b, err := Launch(ctx, Config{HostResolverRules: fmt.Sprintf("MAP * 127.0.0.1:%d, EXCLUDE 127.0.0.1, EXCLUDE localhost", port)})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = b.Close()
		}
	}()

	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if js, ok := hostileScripts[r.URL.Path]; ok {
			w.Header().Set("Content-Type", "application/javascript")
			fmt.Fprint(w, js)
			return
		}
		fmt.Fprint(w, hostilePage)
	}))
	defer page.Close()

	want := []string{"/kit/qualp.popup.js", "/kit/qualp.shared.js", "/kit/qualp.sw.js", "/kit/qualp.swpass.js", "/kit/qualp.worker.js"}
	var mu sync.Mutex
	got := map[string]bool{}
	all := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = true
		n := 0
		for _, p := range want {
			if got[p] {
				n++
			}
		}
		if n == len(want) {
			select {
			case <-all:
			default:
				close(all)
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, "/* reference kit */")
	})
	var requests []string
	var rmu sync.Mutex
	s, err := b.NewSession(ctx, SessionConfig{
		Intercept: []string{"*://files.qualifio.com/*", "*://*.qualifioapp.com/*", "*://jeux.example.com/*"},
		Handler:   h,
		Hooks: Hooks{Request: func(r Request) {
			rmu.Lock()
			requests = append(requests, r.Type+" "+r.URL)
			rmu.Unlock()
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Navigate(ctx, page.URL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-all:
	case <-ctx.Done():
	}
	mu.Lock()
	var missing []string
	for _, p := range want {
		if !got[p] {
			missing = append(missing, p)
		}
	}
	mu.Unlock()
	_ = s.Close()
	pid := b.PID()
	if err := b.Close(); err != nil {
		t.Error(err)
	}
	closed = true
	if left := Processes(pid); len(left) > 0 {
		t.Errorf("processes left: %v", left)
	}
	leaked := sk.drain()
	sort.Strings(leaked)
	if len(missing) > 0 {
		rmu.Lock()
		t.Errorf("not answered by the session's handler: %v\nrequests seen: %v", missing, requests)
		rmu.Unlock()
	}
	if len(leaked) > 0 {
		t.Errorf("%d connection(s) reached the outside (the sink): %q", len(leaked), leaked)
	}
	if _, err := os.Stat(b.UserDataDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary profile left: %v", err)
	}
}

// TestNoTemporaryFilesLeft: a browser run leaves nothing of Chromium's in
// $TMPDIR (no org.chromium.Chromium.* folder, no profile).
func TestNoTemporaryFilesLeft(t *testing.T) {
	tmp, err := os.MkdirTemp("/tmp", "qc") // short: Chromium puts a Unix socket under it
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	b, err := Launch(ctx, Config{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := b.NewSession(ctx, SessionConfig{})
	if err == nil {
		_ = s.Navigate(ctx, "about:blank")
		_ = s.Close()
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		t.Errorf("left in $TMPDIR: %s", e.Name())
	}
}
