package browser

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/browser/gridtest"
)

// TestGrid runs sessions on a real Selenium Grid 4 standalone (Java, the
// npm jar, Debian's chromedriver and Chromium) and checks after each case,
// on the grid's /status, that no session was left: after a session that
// worked, one whose page was unreachable, one interrupted while the grid
// was creating it, and one left open when the run's browser was closed.
func TestGrid(t *testing.T) {
	g := gridtest.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cfg := Config{Grid: g.URL, GridNoSandbox: os.Geteuid() == 0}
	noSession := func(when string) {
		t.Helper()
		g.WaitNoSessions(t, when)
	}
	b, err := Launch(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	t.Run("a page load in its own session", func(t *testing.T) {
		// The iframe's requests are intercepted in the page's session: the
		// node's Chromium got qualcert's flags (site isolation off).
		expectIframePostWithin(t, b, false, 2*time.Minute)
		noSession("after a session")
	})

	t.Run("two sessions at once are two grid sessions", func(t *testing.T) {
		s1, err := b.NewSession(ctx, SessionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		s2, err := b.NewSession(ctx, SessionConfig{})
		if err != nil {
			s1.Close()
			t.Fatal(err)
		}
		if n := len(g.Sessions(t)); n != 2 {
			t.Errorf("%d sessions on the grid for two Sessions, want 2", n)
		}
		if err := errors.Join(s1.Close(), s2.Close()); err != nil {
			t.Fatal(err)
		}
		noSession("after two sessions")
	})

	t.Run("an unreachable page", func(t *testing.T) {
		s, err := b.NewSession(ctx, SessionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		var ne *NavigationError
		if err := s.Navigate(ctx, "http://127.0.0.1:1/"); !errors.As(err, &ne) {
			t.Errorf("navigating to a closed port: %v, want a NavigationError", err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		noSession("after a failed load")
	})

	t.Run("interrupted while the grid creates the session", func(t *testing.T) {
		b, err := Launch(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		created, deleted := g.Counts()
		ictx, stop := context.WithCancel(ctx)
		stop() // as a SIGINT right after the request left
		if _, err := b.NewSession(ictx, SessionConfig{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("NewSession with a cancelled context: %v", err)
		}
		// The grid goes on creating the session; Close waits for it and
		// deletes it.
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		noSession("after an interrupted creation")
		// The grid did create the session the run gave up on, and it was
		// deleted (not left to the grid's timeout).
		g.WaitDeleted(t, deleted+1)
		if c, _ := g.Counts(); c != created+1 {
			t.Fatalf("the grid created %d sessions, want 1", c-created)
		}
	})

	t.Run("interrupted mid-load", func(t *testing.T) {
		b, err := Launch(ctx, cfg)
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
		if n := len(g.Sessions(t)); n != 1 {
			t.Fatalf("%d sessions on the grid, want 1", n)
		}
		// The run is torn down with the session still open.
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		noSession("after closing the browser under an open session")
		_ = s.Close()
		if _, err := b.NewSession(ctx, SessionConfig{}); !errors.Is(err, ErrBrowserClosed) {
			t.Fatalf("a closed grid browser opened a session: %v", err)
		}
	})
}

// A grid that is not there is an error at Launch, not at the first page.
func TestGridUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := Launch(ctx, Config{Grid: "http://127.0.0.1:1"}); err == nil || !strings.Contains(err.Error(), "Selenium Grid at http://127.0.0.1:1") {
		t.Fatalf("Launch on a closed port: %v", err)
	}
}
