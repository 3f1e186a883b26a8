package browser

import (
	"testing"

	"github.com/go-rod/rod"
)

// Past maxQueued waiting events, what only observes is dropped and
// counted; what the run cannot do without is queued all the same, and the
// order of what is queued is kept.
func TestEventQueueBounds(t *testing.T) {
	q := newEventQueue()
	for i := 0; i < maxQueued; i++ {
		if k, _ := q.push(&rod.Message{Method: "Network.requestWillBeSent"}); k != "" {
			t.Fatalf("dropped at %d of %d", i, maxQueued)
		}
	}
	k, n := q.push(&rod.Message{Method: "Network.loadingFinished"})
	if k != DroppedNetwork || n != 1 {
		t.Fatalf("full queue: got %q %d, want a first network drop", k, n)
	}
	if k, n := q.push(&rod.Message{Method: "Runtime.consoleAPICalled"}); k != DroppedConsole || n != 1 {
		t.Fatalf("console: %q %d", k, n)
	}
	if k, n := q.push(&rod.Message{Method: "Page.frameAttached"}); k != DroppedFrames || n != 1 {
		t.Fatalf("frames: %q %d", k, n)
	}
	for _, m := range []string{"Fetch.requestPaused", "Runtime.bindingCalled", "Target.attachedToTarget", "Page.frameNavigated", "Page.javascriptDialogOpening"} {
		if k, _ := q.push(&rod.Message{Method: m}); k != "" {
			t.Errorf("%s dropped", m)
		}
	}
	for i := 0; i < maxQueued; i++ {
		m, ok := q.pop()
		if !ok || m.Method != "Network.requestWillBeSent" {
			t.Fatalf("pop %d: %v %v", i, m, ok)
		}
	}
	if m, _ := q.pop(); m.Method != "Fetch.requestPaused" {
		t.Fatalf("after the observations: %s, want Fetch.requestPaused", m.Method)
	}
	// Drained below the bound: observations are queued again.
	if k, _ := q.push(&rod.Message{Method: "Network.requestWillBeSent"}); k != "" {
		t.Fatal("dropped below the bound")
	}
	q.close()
	if _, ok := q.pop(); ok {
		t.Fatal("pop after close")
	}
}
