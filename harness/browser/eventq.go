package browser

import (
	"sync"

	"github.com/go-rod/rod"
)

// go-rod hands every subscriber every event of the browser through a queue
// of its own that never drops and never blocks the connection (goob): if
// a subscriber falls behind, the queue grows. A page can make events as
// fast as its renderer runs (a loop of fetch or beacon calls, iframes
// attached and removed in a loop, console messages), and a session handles
// each (decoding, hooks, the HAR): behind a flood, go-rod's queue, and
// qualcert's memory with it, would grow without bound. So a session
// drains go-rod's channel at once into a queue of its own, bounded: past
// maxQueued waiting events, what only observes (network progress, frame
// and context bookkeeping, console) is dropped and counted, and the
// Dropped hook says so (a timeline marker); what the run cannot do without
// (intercepted requests to answer, the recorder's binding, targets to
// resume, navigation, dialogs) always goes through, and is bounded where
// it comes from (the recorder's and the binding's own bounds, Fetch
// patterns that match only the campaign's hosts).
var maxQueued = 4096 // a variable for the flood test's comparison with an unbounded queue

// droppable are the events a flood may lose: each is an observation, none
// is a request Chromium waits on.
var droppable = map[string]bool{
	"Network.requestWillBeSent":          true,
	"Network.requestWillBeSentExtraInfo": true,
	"Network.responseReceived":           true,
	"Network.responseReceivedExtraInfo":  true,
	"Network.dataReceived":               true,
	"Network.loadingFinished":            true,
	"Network.loadingFailed":              true,
	"Network.requestServedFromCache":     true,
	"Network.resourceChangedPriority":    true,
	"Network.webSocketCreated":           true,
	"Network.webSocketFrameSent":         true,
	"Network.webSocketFrameReceived":     true,
	"Network.eventSourceMessageReceived": true,
	"Page.frameAttached":                 true,
	"Page.frameDetached":                 true,
	"Page.frameStartedLoading":           true,
	"Page.frameStoppedLoading":           true,
	"Page.frameRequestedNavigation":      true,
	"Page.frameStartedNavigating":        true,
	"Page.frameSubtreeWillBeDetached":    true,
	"Page.lifecycleEvent":                true,
	"Runtime.executionContextCreated":    true,
	"Runtime.executionContextDestroyed":  true,
	"Runtime.consoleAPICalled":           true,
	"Runtime.exceptionThrown":            true,
}

// Dropped kinds, as the Dropped hook names them.
const (
	DroppedNetwork = "network" // requests and their progress: requests went unseen (the token leak check among them)
	DroppedConsole = "console" // console messages and exceptions
	DroppedFrames  = "frames"  // frame and JavaScript context bookkeeping
	DroppedBodies  = "bodies"  // request bodies not fetched (too many fetches at once): requests reported without them
)

func droppedKind(method string) string {
	switch {
	case len(method) > 8 && method[:8] == "Network.":
		return DroppedNetwork
	case method == "Runtime.consoleAPICalled" || method == "Runtime.exceptionThrown":
		return DroppedConsole
	default:
		return DroppedFrames
	}
}

// eventQueue is a session's bounded FIFO of events waiting for its
// handler.
type eventQueue struct {
	mu      sync.Mutex
	items   []*rod.Message
	head    int
	wake    chan struct{} // a token when items were added
	closed  bool
	dropped map[string]int // per kind (Dropped*), since the start
}

func newEventQueue() *eventQueue {
	return &eventQueue{wake: make(chan struct{}, 1), dropped: map[string]int{}}
}

// push adds msg, or drops it when the queue is full and msg only
// observes; it returns the kind dropped ("" = queued) and how many of that
// kind were dropped so far.
func (q *eventQueue) push(msg *rod.Message) (string, int) {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return "", 0
	}
	if len(q.items)-q.head >= maxQueued && droppable[msg.Method] {
		k := droppedKind(msg.Method)
		q.dropped[k]++
		n := q.dropped[k]
		q.mu.Unlock()
		return k, n
	}
	if q.head > 0 && q.head >= len(q.items)/2 { // reuse the drained front
		q.items = append(q.items[:0], q.items[q.head:]...)
		q.head = 0
	}
	q.items = append(q.items, msg)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return "", 0
}

// pop waits for the next event; ok is false once the queue is closed.
func (q *eventQueue) pop() (*rod.Message, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		if q.head < len(q.items) {
			m := q.items[q.head]
			q.items[q.head] = nil
			q.head++
			q.mu.Unlock()
			return m, true
		}
		q.items, q.head = q.items[:0], 0
		q.mu.Unlock()
		<-q.wake
	}
}

// close ends the queue: what waits in it is dropped (the session is
// closing, as go-rod's channel was), and pop stops.
func (q *eventQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.items, q.head = nil, 0
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}
