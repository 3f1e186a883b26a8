package browser

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// TestSyncWaitsForEveryEarlierBindingCall: the recorder's world makes 2000
// binding calls in one burst and the handler is slow (a loaded machine):
// when Eval returns most are still on their way; when Sync returns, every
// one of them has been handled.
func TestSyncWaitsForEveryEarlierBindingCall(t *testing.T) {
	t.Parallel()
	const burst = 2000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>burst</title><p>a page</p>`)
	}))
	defer srv.Close()
	var handled atomic.Int64
	loaded := make(chan struct{}, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s, err := shared.NewSession(ctx, SessionConfig{
		Binding: "__qcSyncTest",
		World:   "qualcert-sync-test",
		WorldScripts: []string{`document.addEventListener('burst', function () {
			for (var i = 0; i < ` + fmt.Sprint(burst) + `; i++) __qcSyncTest(JSON.stringify({ i: i }));
		});`},
		Hooks: Hooks{
			Binding: func(string) {
				time.Sleep(200 * time.Microsecond) // a slow handler, as on a loaded machine
				handled.Add(1)
			},
			Loaded: func() {
				select {
				case loaded <- struct{}{}:
				default:
				}
			},
		},
	})
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
		t.Fatal("the page never loaded")
	}
	// The page's own world dispatches the event; the recorder's world
	// listens (worlds share the DOM), and its calls are made before Eval
	// returns.
	if _, err := s.Eval(ctx, `document.dispatchEvent(new Event('burst')); 1`); err != nil {
		t.Fatal(err)
	}
	t.Logf("handled when the burst's Eval returned: %d of %d", handled.Load(), burst)
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if n := handled.Load(); n != burst {
		t.Fatalf("handled when Sync returned: %d, want all %d", n, burst)
	}
	// A second Sync, with nothing new, returns too.
	if err := s.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSyncIsBoundedOnABusyPage: a page whose main thread never yields
// cannot answer; Sync returns its context's error instead of hanging.
func TestSyncIsBoundedOnABusyPage(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := loopingSession(t, ctx, SessionConfig{Binding: "__qcSyncTest", World: "qualcert-sync-test"})
	defer s.Close()
	short, cancelShort := context.WithTimeout(ctx, time.Second)
	defer cancelShort()
	if err := s.Sync(short); err == nil {
		t.Fatal("Sync with a page stuck in a loop should end with its context")
	}
}

func TestSyncNeedsAnIsolatedBinding(t *testing.T) {
	s := &Session{cfg: SessionConfig{Binding: "x"}}
	if err := s.Sync(context.Background()); err == nil {
		t.Fatal("Sync without an isolated world should fail")
	}
}
