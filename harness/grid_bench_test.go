package harness

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/browser/gridtest"
)

// BenchmarkGridRun measures what a Selenium Grid 4 session adds to a page
// load: the same harness Run of a good page, alternately in the package's
// local browser and in a grid session of its own (a standalone grid on
// 127.0.0.1, started by the benchmark: session creation, chromedriver and
// Chromium start, se:cdp proxy, session deletion), so that both see the
// same machine load:
//
//	go test -run '^$' -bench BenchmarkGridRun -benchtime 10x ./harness/
func BenchmarkGridRun(b *testing.B) {
	g := gridtest.Start(b, 2)
	ctx := context.Background()
	onGrid, err := Start(ctx, Options{Grid: g.URL, GridNoSandbox: os.Geteuid() == 0})
	if err != nil {
		b.Fatal(err)
	}
	defer onGrid.Close()
	f := newFixture(b)
	u := f.page("/bench-grid", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	run := func(h *Harness) time.Duration {
		t0 := time.Now()
		res, err := h.Run(ctx, Scenario{Name: "bench", Profile: p})
		if err != nil || codes(res) != nil {
			b.Fatalf("run: %v %v", err, codes(res))
		}
		return time.Since(t0)
	}
	var local, grid time.Duration
	for b.Loop() {
		local += run(shared)
		grid += run(onGrid)
	}
	n := float64(b.N)
	b.ReportMetric(float64(local.Milliseconds())/n, "local-ms/op")
	b.ReportMetric(float64(grid.Milliseconds())/n, "grid-ms/op")
	b.ReportMetric(float64((grid-local).Milliseconds())/n, "grid-added-ms/op")
	// Each Run's session is closed in the background; Close waits for them.
	if err := onGrid.Close(); err != nil {
		b.Fatal(err)
	}
	g.WaitNoSessions(b, "after the benchmark")
}
