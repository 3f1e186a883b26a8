package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
)

// The page loads the scenarios ask for start in rank order, the slow phone
// first, once every scenario has asked (or ended without a load), whatever
// order they asked in.
func TestObserverStartsTheLongestLoadFirst(t *testing.T) {
	var mu sync.Mutex
	var order []string
	load := func(ctx context.Context, sc harness.Scenario) (*harness.Result, error) {
		mu.Lock()
		order = append(order, sc.Name)
		mu.Unlock()
		return &harness.Result{}, nil
	}
	o := newObserver(context.Background(), load, 1, "")
	conds := []conditions{
		{profileKey: "p"},
		{profileKey: "p", loggedOut: true},
		{profileKey: "p", fault: finding.TokenExpired},
		{profileKey: "p", throttle: &harness.SlowPhone},
	}
	// five scenarios: one per load, and one that ends without a load
	o.q.gather(len(conds) + 1)
	var wg sync.WaitGroup
	for i, c := range conds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := o.observe(context.Background(), fmt.Sprint("s", i), c, harness.Scenario{Name: c.key()}); err != nil {
				t.Error(err)
			}
		}()
		// each asks after the previous one queued: arrival order is conds'
		waitFor(t, func() bool { o.q.mu.Lock(); defer o.q.mu.Unlock(); return len(o.q.waiting) == i+1 })
	}
	o.q.arrive("skipped")
	wg.Wait()
	want := []string{conds[3].key(), conds[1].key(), conds[2].key(), conds[0].key()}
	if !slices.Equal(order, want) {
		t.Errorf("started %q, want %q", order, want)
	}
}

// A scenario that never asks does not hold the page loads back for longer
// than the gather's bound.
func TestObserverGatherIsBounded(t *testing.T) {
	o := newObserver(context.Background(), func(ctx context.Context, sc harness.Scenario) (*harness.Result, error) {
		return &harness.Result{}, nil
	}, 2, "")
	o.q.gather(2) // the second scenario never asks
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, _, err := o.observe(context.Background(), "s1", conditions{profileKey: "p"}, harness.Scenario{Name: "p"}); err != nil {
			t.Error(err)
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the page load never started")
	}
}

// Loads beyond the slots start only while the gauge says the CPUs are idle,
// and at most burst of them.
func TestObserverBurstsOnlyWhileIdle(t *testing.T) {
	for _, c := range []struct {
		name    string
		idle    float64
		wantMax int32
	}{{"idle", 1, 3}, {"busy", 0.2, 1}} {
		t.Run(c.name, func(t *testing.T) {
			var inFlight, maxInFlight, calls atomic.Int32
			release := make(chan struct{})
			load := func(ctx context.Context, sc harness.Scenario) (*harness.Result, error) {
				calls.Add(1)
				n := inFlight.Add(1)
				defer inFlight.Add(-1)
				for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
				}
				<-release
				return &harness.Result{}, nil
			}
			o := newObserver(context.Background(), load, 1, "")
			gauge := &fixedIdle{share: c.idle}
			o.burst, o.idle = 2, gauge
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cond := conditions{profileKey: fmt.Sprint("p", i)}
					if _, _, err := o.observe(context.Background(), fmt.Sprint("s", i), cond, harness.Scenario{Name: cond.key()}); err != nil {
						t.Error(err)
					}
				}()
			}
			if c.wantMax > 1 {
				waitFor(t, func() bool { return inFlight.Load() == c.wantMax })
			} else {
				// the gauge is read at each poll: a busy one, read again
				// and again past the spacing, admits none
				waitFor(t, func() bool { return calls.Load() == 1 })
				n := gauge.reads.Load()
				waitFor(t, func() bool { return gauge.reads.Load() >= n+2*int32(burstSpacing/burstPoll)+2 })
			}
			close(release)
			wg.Wait()
			if m := maxInFlight.Load(); m != c.wantMax {
				t.Errorf("%d page loads at a time, want %d (1 slot, burst 2, idle %.1f)", m, c.wantMax, c.idle)
			}
			if n := calls.Load(); n != 4 {
				t.Errorf("%d page loads, want 4", n)
			}
		})
	}
}

// fixedIdle is a gauge that always says share, and counts its readings.
type fixedIdle struct {
	share float64
	reads atomic.Int32
}

func (f *fixedIdle) Idle() float64 { f.reads.Add(1); return f.share }

// The gauge reads /proc/stat's first line: idle and iowait over the sum of
// the first eight columns, since the previous reading.
func TestProcStatIdleShare(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stat")
	write := func(user, idle, iowait int) {
		line := fmt.Sprintf("cpu  %d 0 0 %d %d 0 0 0 7 7\ncpu0 1 2 3 4 5 6 7 8 9 10\n", user, idle, iowait)
		if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := &procStat{path: path, staleAfter: time.Hour}
	write(100, 100, 0)
	if got := p.Idle(); got != 0 {
		t.Errorf("first reading %v, want 0 (a baseline)", got)
	}
	write(130, 160, 10) // +30 busy, +70 idle
	if got := p.Idle(); got != 0.7 {
		t.Errorf("idle share %v, want 0.7", got)
	}
	p.staleAfter = 0
	write(140, 170, 10)
	if got := p.Idle(); got != 0 {
		t.Errorf("a stale baseline gave %v, want 0", got)
	}
	if _, _, ok := readProcStat(filepath.Join(t.TempDir(), "none")); ok {
		t.Error("a missing /proc/stat was read")
	}
}

// waitFor waits until cond holds, with a deadline.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
