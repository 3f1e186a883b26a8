package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/browser/gridtest"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
)

// BenchmarkFleet measures how the cost of a fleet run grows with the work:
// one qualcert run certifies 20 generated sites (demo variants, good and
// faulty, each served by a demo publisher of its own on a distinct loopback
// host, 127.0.0.2 … 127.0.0.21) at --concurrency 1, 2, 4 and 8, in local
// Chromium and through a Selenium Grid 4 standalone started on 127.0.0.1
// (8 slots). It reports the wall time of the run (wall-s/op), the wall time
// per page load (ms/load) and the 1-minute load average of the machine
// around the run (load1-before, load1-after): quote them with the figures.
// cpu-ms/load is the CPU time of the process and of the Chromium it
// launched (and waited for) per page load: the work a load costs, which
// concurrency cannot shrink; a grid's Chromium is not counted.
//
//	make bench-fleet
//	go test -run '^$' -bench BenchmarkFleet -benchtime 1x -timeout 60m ./cmd/qualcert/
//
// QUALCERT_BENCH_SITES (default 20) and QUALCERT_BENCH_TAGS (default "@tag",
// one page load per site; "" for the whole suite, five) scale the work;
// QUALCERT_BENCH_CONCURRENCY ("1,2,4,8") and QUALCERT_BENCH_WHERE
// ("local,grid") choose the runs. make test does not run it.
func BenchmarkFleet(b *testing.B) {
	if _, err := exec.LookPath(defaultChromium); err != nil {
		b.Skip("no Chromium at " + defaultChromium)
	}
	n := envInt(b, "QUALCERT_BENCH_SITES", 20)
	tags := "@tag"
	if v, ok := os.LookupEnv("QUALCERT_BENCH_TAGS"); ok {
		tags = v
	}
	concurrencies := []int{1, 2, 4, 8}
	if v := os.Getenv("QUALCERT_BENCH_CONCURRENCY"); v != "" {
		concurrencies = nil
		for _, f := range strings.Split(v, ",") {
			c, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || c < 1 {
				b.Fatalf("QUALCERT_BENCH_CONCURRENCY %q: want numbers ≥ 1", v)
			}
			concurrencies = append(concurrencies, c)
		}
	}
	where := "local,grid"
	if v := os.Getenv("QUALCERT_BENCH_WHERE"); v != "" {
		where = v
	}

	variants := []string{"jws-inline", "jws-access-token", "jwe-nested", "jwe-dir", "two-campaigns",
		"queued-before-loader", "bad-signature", "expired", "field-missing", "alg-none"}
	dir := b.TempDir()
	fleet := filepath.Join(dir, "fleet")
	if err := os.Mkdir(fleet, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < n; i++ {
		// a host of its own: 127.0.0.0/8 is all loopback on Linux
		srv, err := demo.Start(context.Background(), fmt.Sprintf("127.0.0.%d:0", 2+i%250))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Close() })
		v := variants[i%len(variants)]
		if err := srv.WriteProfile(v, filepath.Join(fleet, fmt.Sprintf("site-%02d-%s.yaml", i+1, v))); err != nil {
			b.Fatal(err)
		}
	}

	bench := func(b *testing.B, extra ...string) {
		for _, c := range concurrencies {
			b.Run(fmt.Sprintf("concurrency=%d", c), func(b *testing.B) {
				var wall, cpu time.Duration
				loads, broken, before := 0, 0, loadAvg()
				for b.Loop() {
					out := filepath.Join(b.TempDir(), "report")
					args := append([]string{"--profile", fleet, "--tags", tags, "--concurrency", strconv.Itoa(c), "--report-dir", out}, extra...)
					t0, c0 := time.Now(), cpuTime()
					code, stdout, stderr := runCLI(b, args...)
					wall += time.Since(t0)
					cpu += cpuTime() - c0
					if code == exitUsage {
						b.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, tail(stdout, 4000), stderr)
					}
					// a broken site (no verdict: a page or browser timed out on
					// a loaded machine) is a figure too: counted, with its cause
					if code == exitBroken {
						b.Logf("exit 3 (broken):\n%s", brokenCauses(stdout))
					}
					r, err := reports.ReadJSON(filepath.Join(out, reports.JSONFile))
					if err != nil {
						b.Fatal(err)
					}
					if len(r.Sites) != n {
						b.Fatalf("%d sites in the report, want %d", len(r.Sites), n)
					}
					loads += len(r.PageLoads)
					for _, st := range r.Sites {
						if st.Verdict == reports.Broken {
							broken++
						}
					}
				}
				after := loadAvg()
				ops := float64(b.N)
				b.ReportMetric(wall.Seconds()/ops, "wall-s/op")
				b.ReportMetric(float64(wall.Milliseconds())/float64(max(loads, 1)), "ms/load")
				b.ReportMetric(float64(loads)/ops, "loads/op")
				b.ReportMetric(float64(cpu.Milliseconds())/float64(max(loads, 1)), "cpu-ms/load")
				b.ReportMetric(float64(broken)/ops, "broken-sites/op")
				b.ReportMetric(before, "load1-before")
				b.ReportMetric(after, "load1-after")
			})
		}
	}
	for _, w := range strings.Split(where, ",") {
		switch strings.TrimSpace(w) {
		case "local":
			b.Run("local", func(b *testing.B) { bench(b) })
		case "grid":
			b.Run("grid", func(b *testing.B) {
				slots := 0
				for _, c := range concurrencies {
					slots = max(slots, c)
				}
				g := gridtest.Start(b, slots)
				extra := []string{"--grid", g.URL}
				if os.Geteuid() == 0 {
					extra = append(extra, "--grid-no-sandbox")
				}
				bench(b, extra...)
				g.WaitNoSessions(b, "after the fleet runs")
			})
		default:
			b.Fatalf("QUALCERT_BENCH_WHERE %q: local, grid", where)
		}
	}
}

func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 250 {
		b.Fatalf("%s %q: want 1 … 250", name, v)
	}
	return n
}

// loadAvg is the machine's 1-minute load average (0 where unknown).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	return f
}

// brokenCauses are the lines of a run's output that say why a page load
// gave no verdict.
func brokenCauses(stdout string) string {
	var out []string
	for _, l := range strings.Split(stdout, "\n") {
		if strings.Contains(l, "env.") || strings.Contains(l, "no verdict") {
			out = append(out, l)
		}
	}
	return tail(strings.Join(out, "\n"), 4000)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
