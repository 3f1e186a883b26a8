package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
)

// A fleet run at a concurrency far above the machine's cores gives each site
// the verdict, scenario statuses and codes of a run of that site alone: the
// fleet's own load (its sites share a browser per confinement, see
// harness.ShareKey) must not turn a site broken or change what it is found
// to do. Run it beside a CPU hog (stress-ng --cpu 2) to see it hold under a
// loaded machine.
func TestFleetAtHighConcurrencyAgreesWithSingleRuns(t *testing.T) {
	startDemoWithChromium(t) // skips without Chromium or with -short
	work := t.TempDir()
	fleetDir := filepath.Join(work, "fleet")
	if err := os.Mkdir(fleetDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// good and faulty sites, each served on a loopback host of its own;
	// two-campaigns confines one more campaign host, so the fleet needs
	// two browsers
	variants := []string{"jws-inline", "jws-access-token", "jwe-nested", "two-campaigns",
		"bad-signature", "expired", "field-missing", "alg-none"}
	var profiles []string
	for i, v := range variants {
		srv, err := demo.Start(context.Background(), fmt.Sprintf("127.0.0.%d:0", 2+i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		path := filepath.Join(fleetDir, fmt.Sprintf("site-%d-%s.yaml", i+1, v))
		if err := srv.WriteProfile(v, path); err != nil {
			t.Fatal(err)
		}
		profiles = append(profiles, path)
	}

	fleetOut := filepath.Join(work, "fleet-report")
	code, out, stderr := runCLI(t, "--profile", fleetDir, "--tags", fleetTags, "--concurrency", "8", "--report-dir", fleetOut)
	t.Logf("fleet at --concurrency 8:\n%s", tail(out, 6000))
	if code == exitUsage || code == exitBroken {
		t.Fatalf("fleet: exit %d\n%s\nstderr:\n%s", code, brokenCauses(out), stderr)
	}
	fr, err := reports.ReadJSON(filepath.Join(fleetOut, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(fr.Sites) != len(variants) {
		t.Fatalf("%d sites in the fleet report, want %d", len(fr.Sites), len(variants))
	}

	for i, path := range profiles {
		site := fr.Sites[i]
		single := filepath.Join(work, "single", site.ID)
		scode, sout, sstderr := runCLI(t, "--profile", path, "--tags", fleetTags, "--report-dir", single)
		if scode == exitUsage || scode == exitBroken {
			t.Fatalf("%s alone: exit %d\n%s\nstderr:\n%s", site.ID, scode, brokenCauses(sout), sstderr)
		}
		sr, err := reports.ReadJSON(filepath.Join(single, reports.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		inFleet, err := reports.ReadJSON(filepath.Join(fleetOut, reports.SitesDir, site.ID, reports.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		if inFleet.Verdict != sr.Verdict || site.Verdict != sr.Verdict {
			t.Errorf("%s: verdict %s in the fleet (%s in its site report), %s alone", site.ID, site.Verdict, inFleet.Verdict, sr.Verdict)
		}
		if inFleet.Summary != sr.Summary {
			t.Errorf("%s: summary %+v in the fleet, %+v alone", site.ID, inFleet.Summary, sr.Summary)
		}
		fo, so := outcomes(t, inFleet), outcomes(t, sr)
		for k, s := range so {
			if fo[k] != s {
				t.Errorf("%s: %s: %q in the fleet, %q alone", site.ID, k, fo[k], s)
			}
		}
		for k, f := range fo {
			if _, ok := so[k]; !ok {
				t.Errorf("%s: %s: only in the fleet: %q", site.ID, k, f)
			}
		}
		if t.Failed() {
			t.Logf("%s alone:\n%s", site.ID, tail(sout, 3000))
		}
	}
	if want := exitCode(fr.Verdict); code != want {
		t.Errorf("fleet exit %d, want %d for verdict %s", code, want, fr.Verdict)
	}
	if !strings.Contains(out, "sharing the fleet's browser") {
		t.Errorf("the fleet's sites did not share a browser")
	}
}
