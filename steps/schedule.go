package steps

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"time"
)

// How the observer hands out browser slots (acquire):
//
//   - in rank order (conditions.rank: the longest expected load first), once
//     the run's scenarios have said which loads they need (the gather: every
//     scenario that will ask has asked or ended, or gatherBound passed), so
//     that the slowest load is not left to run alone at the end;
//   - a load beyond the slots (observer.burst) starts only while the
//     machine's CPUs are idle: a page load spends most of its time waiting
//     (round trips, the windows of kit/PROTOCOL.md "When a run ends"), and a
//     load started then takes CPU its siblings are not using; on a loaded
//     machine (stress-ng, other runs) no extra load starts, and the run is
//     the one the slots alone would give.
const (
	// gatherBound bounds the wait for the scenarios to ask for their page
	// loads before the first starts (they all start at once and ask within
	// milliseconds: the bound only matters if one never asks).
	gatherBound = time.Second
	// burstPoll is how often the first waiting load looks at the CPUs.
	burstPoll = 100 * time.Millisecond
	// burstIdle is the idle share of the machine's CPUs at or above which,
	// over the last burstQuiet polls in a row, one more load may start
	// beyond the slots. Not higher: a slow phone's load keeps most of a
	// core busy for its whole flow (Chromium emulates the slow CPU by
	// spinning the renderer's main thread in place), so on 2 cores beside it
	// the CPUs are at most about half idle; on a loaded machine (stress-ng
	// --cpu 2, other runs) they are at 0–10 %.
	burstIdle = 0.4
	// burstQuiet is how many polls in a row must find the CPUs idle: one
	// quiet poll is a gap between two bursts of work.
	burstQuiet = 2
	// burstSpacing is the least time between a load's start and a burst
	// load's: a start's own CPU (the tab's renderer, the set-up) shows in
	// the gauge only after it.
	burstSpacing = 250 * time.Millisecond
)

// queue is the observer's waiting page loads and its slot bookkeeping.
type queue struct {
	mu      sync.Mutex
	waiting []*waiter
	seq     int
	changed chan struct{} // closed (and replaced) when the order or the gate changes

	expect  int             // scenarios to hear from before the first start (0: none)
	arrived map[string]bool // scenarios that asked for a load or ended
	gated   bool            // the gather is still on

	inBurst   int       // loads running beyond the slots
	lastStart time.Time // the last load's start
	quiet     int       // idle polls in a row
}

type waiter struct {
	rank, seq int
}

// changedLocked returns the channel closed at the next change (q.mu held).
func (q *queue) changedLocked() chan struct{} {
	if q.changed == nil {
		q.changed = make(chan struct{})
	}
	return q.changed
}

// notifyLocked wakes the waiters up to look at the queue again (q.mu held).
func (q *queue) notifyLocked() {
	if q.changed != nil {
		close(q.changed)
		q.changed = nil
	}
}

// gather holds the first start until n scenarios asked for a page load or
// ended (arrive), or gatherBound passed. Call it before the scenarios start.
func (q *queue) gather(n int) {
	if n <= 0 {
		return
	}
	q.mu.Lock()
	q.expect, q.arrived, q.gated = n, map[string]bool{}, true
	q.mu.Unlock()
	time.AfterFunc(gatherBound, q.open)
}

// arrive notes that a scenario asked for its page load or ended without
// one.
func (q *queue) arrive(scenarioID string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.gated {
		return
	}
	q.arrived[scenarioID] = true
	if len(q.arrived) >= q.expect {
		q.gated = false
		q.notifyLocked()
	}
}

// open ends the gather.
func (q *queue) open() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.gated {
		q.gated = false
		q.notifyLocked()
	}
}

func (q *queue) enqueue(rank int) *waiter {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	w := &waiter{rank: rank, seq: q.seq}
	q.waiting = append(q.waiting, w)
	q.notifyLocked()
	return w
}

func (q *queue) remove(w *waiter) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, x := range q.waiting {
		if x == w {
			q.waiting = append(q.waiting[:i], q.waiting[i+1:]...)
			q.notifyLocked()
			return
		}
	}
}

// first reports whether w is the load to start next (the gather over, no
// waiter of a higher rank or an earlier one of the same), and the channel
// closed when that may change.
func (q *queue) first(w *waiter) (bool, <-chan struct{}) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ch := q.changedLocked()
	if q.gated {
		return false, ch
	}
	for _, x := range q.waiting {
		if x.rank > w.rank || x.rank == w.rank && x.seq < w.seq {
			return false, ch
		}
	}
	return true, ch
}

func (q *queue) started() {
	q.mu.Lock()
	q.lastStart = time.Now()
	q.mu.Unlock()
}

// admitBurst starts a load beyond the slots if fewer than max run so, the
// last start is burstSpacing old and the CPUs were idle (idle: since the
// last poll) for burstQuiet polls in a row.
func (q *queue) admitBurst(max int, idle float64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if idle >= burstIdle {
		q.quiet++
	} else {
		q.quiet = 0
	}
	if q.inBurst >= max || time.Since(q.lastStart) < burstSpacing || q.quiet < burstQuiet {
		return false
	}
	q.inBurst++
	q.lastStart = time.Now()
	q.quiet = 0
	return true
}

func (q *queue) endBurst() {
	q.mu.Lock()
	q.inBurst--
	q.notifyLocked()
	q.mu.Unlock()
}

// acquire waits for obs's turn and a browser slot, or (observer.burst) an
// idle machine; release gives the slot back.
func (o *observer) acquire(obs *observation) (release func(), err error) {
	w := o.q.enqueue(obs.cond.rank())
	defer o.q.remove(w)
	var tick <-chan time.Time
	if o.burst > 0 && o.idle != nil {
		t := time.NewTicker(burstPoll)
		defer t.Stop()
		tick = t.C
	}
	for {
		first, changed := o.q.first(w)
		if !first {
			select {
			case <-changed:
				continue
			case <-o.ctx.Done():
				return nil, o.ctx.Err()
			}
		}
		select {
		case o.slots <- struct{}{}:
			o.q.started()
			return func() { <-o.slots }, nil
		case <-tick:
			if o.q.admitBurst(o.burst, o.idle.Idle()) {
				obs.burst = true
				return o.q.endBurst, nil
			}
		case <-changed:
		case <-o.ctx.Done():
			return nil, o.ctx.Err()
		}
	}
}

// idleGauge is the idle share of the machine's CPUs (0–1) since its
// previous reading; 0 when it cannot tell.
type idleGauge interface {
	Idle() float64
}

// procStat reads the machine's CPU times from /proc/stat (Linux; elsewhere
// it always says 0, and no load starts beyond the slots).
type procStat struct {
	mu         sync.Mutex
	at         time.Time
	idle, all  uint64
	path       string
	staleAfter time.Duration
}

func newProcStat() *procStat { return &procStat{path: "/proc/stat", staleAfter: 3 * burstPoll} }

// Idle returns the idle share since the previous reading; a first reading,
// or one after a pause longer than staleAfter, is a new baseline (0).
func (p *procStat) Idle() float64 {
	idle, all, ok := readProcStat(p.path)
	if !ok {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	fresh := !p.at.IsZero() && now.Sub(p.at) <= p.staleAfter && all > p.all && idle >= p.idle
	dIdle, dAll := idle-p.idle, all-p.all
	p.at, p.idle, p.all = now, idle, all
	if !fresh {
		return 0
	}
	return min(1, float64(dIdle)/float64(dAll))
}

// readProcStat returns the idle (idle + iowait) and total jiffies of all
// CPUs: the first line of /proc/stat.
func readProcStat(path string) (idle, all uint64, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, false
	}
	for i, s := range f[1:] {
		if i >= 8 { // guest times are counted in user already
			break
		}
		n, err := strconv.ParseUint(string(s), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		all += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return idle, all, true
}
