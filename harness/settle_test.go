package harness

import (
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/timeline"
)

// A campaign blocked for want of a token keeps the run open while the page
// is busy on the network (a late token may be on its way), but a request
// that hangs with nothing else happening must not hold the run until its
// timeout.
func TestSettleStopsWaitingOnAStalledNetwork(t *testing.T) {
	const div = "qualifio_insert_place_1"
	s := newSettleState([]string{div}, time.Second, 1500*time.Millisecond, false)
	s.navStart = 0
	for _, e := range []timeline.Event{
		{TMs: 10, Event: timeline.Navigation, Data: map[string]any{"same_document": false}},
		{TMs: 50, Event: timeline.CreateIframe, Campaign: div, Data: map[string]any{"found": true}},
		{TMs: 90, Event: timeline.PageLoaded},
		{TMs: 100, Event: timeline.Blocked, Campaign: div, Data: map[string]any{"code": "setmetadata.missing"}},
	} {
		s.apply(e)
	}
	s.inflight, s.lastNetAt = 1, 120 // the page fetches something, say its token

	if done, wake := s.next(1200, 0); done || wake != 120+stalledNetwork {
		t.Fatalf("at 1.2 s with a request in flight: done=%v wake=%v, want to wait until %v", done, wake, 120+stalledNetwork)
	}
	if done, _ := s.next(120+stalledNetwork+1, 0); !done {
		t.Fatal("a request in flight with no network change for the stall window still holds the run")
	}

	// The answer arrives at 1.6 s: the settle window then runs from there.
	s.inflight, s.lastNetAt = 0, 1600
	if done, wake := s.next(1700, 0); done || wake != 1600+1500 {
		t.Fatalf("after the answer: done=%v wake=%v, want to wait until 3100", done, wake)
	}
	if done, _ := s.next(3101, 0); !done {
		t.Fatal("the run did not end after the settle window")
	}
}
