package timeline

import (
	"sync"
	"testing"
	"time"
)

func TestEventsAreOrderedAndConcurrencySafe(t *testing.T) {
	r := New()
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				r.Add(Page, Command, "div", map[string]any{"i": i})
			}
		}()
	}
	wg.Wait()
	ev := r.Events()
	if len(ev) != 800 {
		t.Fatalf("got %d events, want 800", len(ev))
	}
	for i := 1; i < len(ev); i++ {
		if ev[i].TMs < ev[i-1].TMs {
			t.Fatalf("event %d at %v ms is before event %d at %v ms", i, ev[i].TMs, i-1, ev[i-1].TMs)
		}
	}
}

func TestAddAtKeepsInsertionOrderForTies(t *testing.T) {
	r := New()
	r.AddAt(5, Kit, SetMetaData, "a", nil)
	r.AddAt(1, Kit, CreateIframe, "a", nil)
	r.AddAt(5, Campaign, GetMetaData, "a", nil)
	ev := r.Events()
	if ev[0].Event != CreateIframe || ev[1].Event != SetMetaData || ev[2].Event != GetMetaData {
		t.Fatalf("unexpected order: %v", ev)
	}
	if e, ok := First(ev, SetMetaData, "a"); !ok || e.TMs != 5 {
		t.Fatalf("First = %v, %v", e, ok)
	}
	if n := len(Find(ev, SetMetaData, "b")); n != 0 {
		t.Fatalf("Find matched another campaign: %d", n)
	}
}

func TestSubscribeDeliversLaterEvents(t *testing.T) {
	r := New()
	r.Add(Page, Navigation, "", nil) // before the subscription: not delivered
	ch, cancel := r.Subscribe()
	defer cancel()
	go r.Add(Campaign, FormPrefilled, "div", nil)
	select {
	case e := <-ch:
		if e.Event != FormPrefilled {
			t.Fatalf("got %s, want %s", e.Event, FormPrefilled)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event delivered")
	}
	cancel()
	r.Add(Campaign, Blocked, "div", nil) // after cancel: must not block or panic
}

func TestSinceUsesTheRecorderClock(t *testing.T) {
	r := New()
	if got := r.Since(r.Start().Add(1500 * time.Microsecond)); got != 1.5 {
		t.Fatalf("Since = %v, want 1.5", got)
	}
}

func TestRecorderIsBounded(t *testing.T) {
	r := New()
	for i := 0; i < MaxEvents+500; i++ {
		r.Add(Page, Command, "div", nil)
	}
	ev := r.Events()
	if len(ev) != MaxEvents {
		t.Fatalf("%d events kept, want %d", len(ev), MaxEvents)
	}
	last := ev[len(ev)-1]
	if last.Event != Truncated || last.Data["first_dropped"] != Command {
		t.Fatalf("the last event is %+v, want a truncation marker", last)
	}
	if got := r.Dropped(); got != 501 {
		t.Fatalf("Dropped() = %d, want 501 (the event the marker replaced and 500 more)", got)
	}
}

func TestFromEpochMs(t *testing.T) {
	rec := New()
	now := rec.Now()
	if got := rec.FromEpochMs(0); got < now {
		t.Fatalf("absent timestamp = %v", got)
	}
	if got := rec.FromEpochMs(1); got < now { // 1970: absurd
		t.Fatalf("absurd timestamp = %v", got)
	}
	start := float64(rec.Start().UnixMicro()) / 1000
	if got := rec.FromEpochMs(start); got < -1 || got > 1 {
		t.Fatalf("start = %v, want ~0", got)
	}
}
