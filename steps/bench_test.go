package steps

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
)

// BenchmarkCertification times the whole demo certification, as `make demo`
// runs it (the built-in suite on the demo's good page: 16 scenarios, 5 page
// loads, the browser started and closed, the four reports written): the
// figure of issue 12's target (3 s on 2 cores). It reports the wall time
// (wall-ms/op) at the default concurrency (2 slots, no burst), as `make
// demo` runs it (2 slots and qualcert run's default --burst 3: up to 3 more
// loads while the CPUs are idle), and at one page load per browser slot
// (concurrency = page loads), and the share of the machine's CPU time that
// was busy during the runs (cpu-busy-%: the demo is CPU-bound on 2 cores).
//
// The time of one page load against a bare navigation of the same page has
// one definition, harness.BenchmarkPageLoad (a plain tab, the kit and
// campaign answered, until the campaign's outcome; harness/bare ratio):
//
//	go test ./steps -run '^$' -bench Certification -benchtime 5x
//	go test ./harness -run '^$' -bench 'BenchmarkPageLoad/.*/ratio' -benchtime 10x
func BenchmarkCertification(b *testing.B) {
	bin, err := exec.LookPath("/usr/bin/chromium")
	if err != nil {
		b.Skip("no Chromium at /usr/bin/chromium")
	}
	ctx := context.Background()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	p, err := srv.Profile(demoGood)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name        string
		concurrency int
		burst       int
	}{{"default", 0, 0}, {"make-demo", 2, 3}, {"all-loads", 5, 0}} {
		b.Run(c.name, func(b *testing.B) {
			var wall time.Duration
			gauge := newProcStat()
			gauge.staleAfter = time.Hour
			gauge.Idle()
			for b.Loop() {
				t0 := time.Now()
				r, err := Run(ctx, Config{Profile: p, Concurrency: c.concurrency, Burst: c.burst, Browser: harness.Options{BrowserBin: bin}, ReportDir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				r.Finalize()
				if _, err := reports.WriteAll(b.TempDir(), r, reports.WriteOptions{}); err != nil {
					b.Fatal(err)
				}
				wall += time.Since(t0)
				if r.Verdict != reports.Passed {
					b.Fatalf("verdict %s", r.Verdict)
				}
			}
			b.ReportMetric(float64(wall.Milliseconds())/float64(b.N), "wall-ms/op")
			b.ReportMetric(100*(1-gauge.Idle()), "cpu-busy-%")
		})
	}
}

// demoGood is the demo variant `qualcert run` certifies with no profile.
const demoGood = "jws-inline"
