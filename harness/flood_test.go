package harness

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// TestConsoleFloodIsBounded: a page whose error reporter dumps its state to
// the console in megabytes, again and again from the moment it loads (a
// framework logging its store on every error), does not stall the
// session's event handling: the campaign is prefilled, as on a quiet page,
// within the scenario's timeout and while the flood goes on, and the cut is
// marked on the timeline. Chromium itself spends a main-thread slice on
// each message (about a second per 2 MiB on this 2-core machine under
// load), which the campaign shares: the default variant writes 8
// messages of 2 MiB (16 MiB through the DevTools connection);
// QUALCERT_CONSOLE_FLOOD=1 writes the 300 of issue 10 (600 MiB).
//
// Not parallel: the flood saturates a renderer by design, and beside
// another flood (the pushState router) under make test's load its
// campaign missed the timeout.
func TestConsoleFloodIsBounded(t *testing.T) {
	n := 8
	if os.Getenv("QUALCERT_CONSOLE_FLOOD") == "1" {
		n = 300
	}
	f := newFixture(t)
	flood := fmt.Sprintf(`var big = new Array((2 << 20) + 1).join('x'), dumps = 0;
(function dump() { if (dumps++ < %d) { console.error('state dump ' + dumps + ': ' + big); setTimeout(dump, 0); } })();`, n)
	u := f.page("/console-flood", tag(div(testDiv), flood, create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	p.Timing.Timeout = profile.Duration(60 * time.Second)
	start := time.Now()
	res, err := runScenario(t, Scenario{Profile: p})
	t.Logf("%d console messages of 2 MiB: run took %v", n, time.Since(start).Round(time.Millisecond))
	if os.Getenv("QUALCERT_DUMP") != "" {
		dumpTimeline(t, res)
	}
	if err != nil {
		dumpTimeline(t, res)
		t.Fatalf("broken: %v", err)
	}
	if got := codes(res); len(got) != 0 {
		dumpTimeline(t, res)
		t.Fatalf("codes %v, want none (prefilled)", got)
	}
	var cut bool
	for _, e := range res.Timeline {
		if e.Event == timeline.ConsoleError && len(fmt.Sprint(e.Data["text"])) > 4096 {
			t.Errorf("a console text of %d bytes reached the timeline", len(fmt.Sprint(e.Data["text"])))
		}
		if e.Event == timeline.ConsoleCut {
			cut = true
		}
	}
	if !cut {
		dumpTimeline(t, res)
		t.Error("no console.cut marker on the timeline")
	}
	if i := slices.IndexFunc(res.Campaigns, func(c Campaign) bool { return c.DivID == testDiv }); i < 0 || res.Campaigns[i].Outcome != "prefilled" {
		t.Errorf("campaigns %+v, want %s prefilled", res.Campaigns, testDiv)
	}
}

// TestEventFloodIsBounded: a page that fires requests in a loop (a broken
// analytics retry, beacons without back-off) and attaches and removes
// iframes in a loop (an ad slot refreshing itself) makes CDP events as fast
// as its renderer runs. The session drains go-rod's queues at once into a
// bounded queue of its own (browser/eventq.go): qualcert's memory stays
// bounded, the campaign is still judged (prefilled, not broken, within
// its timeout), and what was dropped is marked on the timeline
// (events.dropped) and judged: with network events lost while the page
// held a token, token.leak_unchecked [should], never a silent pass of the
// leak check. Whether this machine drops anything depends on its speed:
// the test asserts the verdict either way and logs the peak heap (the
// bound itself is proven behind a stuck handler, in package browser).
// QUALCERT_EVENT_FLOOD=N sets the number of requests (default 1000). More
// is Chromium's cost, not qualcert's: on this 2-core machine at load 50,
// 3000 requests (and 20000 at load 60) keep the renderer so busy with the
// page's own loop that its campaign reaches no outcome within 90 s
// (env.timeout), with qualcert's heap under 12 MiB all along.
func TestEventFloodIsBounded(t *testing.T) {
	n := 1000
	if v, err := strconv.Atoi(os.Getenv("QUALCERT_EVENT_FLOOD")); err == nil && v > 0 {
		n = v
	}
	f := newFixture(t)
	var beacons atomic.Int64
	f.mux.HandleFunc("/collect", func(w http.ResponseWriter, r *http.Request) {
		beacons.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	flood := fmt.Sprintf(`var sent = 0, N = %d, payload = new Array(513).join('e');
(function burst() {
  for (var i = 0; i < 400 && sent < N; i++, sent++) {
    fetch('/collect?v=1&t=event&n=' + sent, { method: 'POST', body: 'ev=' + payload + sent }).catch(function () {});
  }
  for (var j = 0; j < 40; j++) { var fr = document.createElement('iframe'); fr.className = 'ad-refresh'; document.body.appendChild(fr); fr.remove(); }
  if (sent < N) setTimeout(burst, 0);
})();`, n)
	u := f.page("/event-flood", tag(div(testDiv), flood, create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	p.Timing.Timeout = profile.Duration(90 * time.Second)

	// The heap's peak while the page floods (sampled; a figure, not a
	// timed assertion).
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	res, err := runScenario(t, Scenario{Profile: p})
	close(stop)
	<-sampled
	t.Logf("%d requests fired, %d reached the server; run took %v; peak Go heap in use %.1f MiB; process peak RSS %s",
		n, beacons.Load(), time.Since(start).Round(time.Millisecond), float64(peak.Load())/(1<<20), vmHWM())
	if os.Getenv("QUALCERT_DUMP") != "" {
		dumpTimeline(t, res)
	}
	if err != nil {
		t.Fatalf("broken: %v", err)
	}
	dropped := map[string]bool{}
	for _, e := range res.Timeline {
		if e.Event == timeline.EventsDropped {
			dropped[fmt.Sprint(e.Data["kind"])] = true
			t.Logf("marker: %s %v at %.0f ms", e.Event, e.Data, e.TMs)
		}
	}
	var want []string
	if dropped["network"] || dropped["bodies"] {
		want = append(want, "token.leak_unchecked")
	}
	expectCodes(t, res, want...)
	if c := campaignOf(t, res, testDiv); c.Outcome != "prefilled" {
		dumpTimeline(t, res)
		t.Fatalf("outcome %s, want prefilled", c.Outcome)
	}
}

// vmHWM is the process's peak resident set (Linux), "" elsewhere.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}

// TestPushStateEvery5msGetsAVerdict: a router that rewrites the URL every
// 5 ms (a scroll-position or carousel state synced to the URL) keeps the
// top frame navigating within its document for the whole run: the
// campaign is still judged (prefilled), within the scenario's timeout.
func TestPushStateEvery5msGetsAVerdict(t *testing.T) { // not parallel: a flood of its own, as above
	f := newFixture(t)
	router := `var tick = 0; setInterval(function () { history.pushState({ y: tick }, '', location.pathname + '?y=' + (tick++)); }, 5);`
	u := f.page("/router-5ms", tag(div(testDiv), router, create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatalf("broken: %v", err)
	}
	// On a loaded machine (make test's -race, beside other packages'
	// Chromium) the session may fall 4096 events behind the router: events
	// are then dropped and marked. The router's own events (same-document
	// navigations) are never dropped; what is dropped is frame bookkeeping
	// (kind frames), which no rule needs, and sometimes network progress
	// (kind network): then the leak check says it could not see every
	// request (token.leak_unchecked, a should). That warning is given
	// when, and only when, network events were dropped before the
	// judgement (a marker added before the last screenshot was); the
	// verdict is the same.
	var lastShot float64
	for _, e := range timeline.Find(res.Timeline, timeline.Screenshot, "") {
		lastShot = max(lastShot, e.TMs)
	}
	network, networkBefore := false, false
	for _, e := range timeline.Find(res.Timeline, timeline.EventsDropped, "") {
		t.Logf("marker: %s %v at %.0f ms", e.Event, e.Data, e.TMs)
		if k := fmt.Sprint(e.Data["kind"]); k == "network" || k == "bodies" {
			network = true
			networkBefore = networkBefore || e.TMs <= lastShot
		}
	}
	warned := slices.ContainsFunc(res.Findings, func(f finding.Finding) bool { return f.Code == finding.TokenLeakUnchecked })
	switch {
	case networkBefore || warned && network:
		expectCodes(t, res, string(finding.TokenLeakUnchecked))
	default:
		expectCodes(t, res)
	}
	if c := campaignOf(t, res, testDiv); c.Outcome != "prefilled" {
		dumpTimeline(t, res)
		t.Fatalf("outcome %s, want prefilled", c.Outcome)
	}
	if _, ok := timeline.First(res.Timeline, timeline.Timeout, ""); ok {
		dumpTimeline(t, res)
		t.Fatal("the run waited for its timeout")
	}
}
