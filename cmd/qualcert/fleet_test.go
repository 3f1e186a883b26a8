package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/qualcert/qualcert/reports"
)

// mergeCLI runs `qualcert merge args…` in-process.
func mergeCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := dispatch(context.Background(), env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut}, append([]string{"merge"}, args...))
	return code, out.String(), errOut.String()
}

// fleetTags is the smallest selection that shows a fleet: per site, the
// plain page load (the tag scenarios and the signed token) and one with an
// injected fault, so that each site has two page loads to slice.
const fleetTags = "@tag or @jws or @expired-token"

// outcome is what a scenario concluded: its status and the codes it
// asserted; a page load's codes that no scenario asserted go under its id.
func outcomes(t *testing.T, r *reports.Report) map[string]string {
	t.Helper()
	out := map[string]string{}
	codes := map[string][]string{}
	for _, f := range r.Findings {
		k := f.Scenario
		if k == "" {
			k = "load " + f.PageLoad
		}
		codes[k] = append(codes[k], string(f.Code)+"/"+string(f.Level)+allowedMark(f.Allowed))
	}
	for _, s := range r.Scenarios {
		c := codes[s.ID]
		sort.Strings(c)
		out[s.ID] = s.Status + " " + strings.Join(c, ",")
	}
	for k, c := range codes {
		if strings.HasPrefix(k, "load ") {
			sort.Strings(c)
			out[k] = strings.Join(c, ",")
		}
	}
	return out
}

func allowedMark(reason string) string {
	if reason != "" {
		return "(allowed)"
	}
	return ""
}

// A fleet of demo sites certified in one run, then as two shards merged,
// gives the same verdicts, codes and exit code per site and per scenario.
func TestFleetWholeAndShardedMergedAgree(t *testing.T) {
	srv := startDemoWithChromium(t)
	work := t.TempDir()
	fleetDir := filepath.Join(work, "fleet")
	if err := os.Mkdir(fleetDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// site-a passes; site-b signs with the wrong key. Each has one load in
	// each shard of two (steps.ShardOf), so the merge joins the scenarios
	// of one site from two shards.
	for name, variant := range map[string]string{"site-a": "jws-inline", "site-b": "bad-signature"} {
		if err := srv.WriteProfile(variant, filepath.Join(fleetDir, name+".yaml")); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fleetDir, "README.txt"), []byte("not a profile"), 0o644); err != nil {
		t.Fatal(err)
	}

	whole := filepath.Join(work, "whole")
	code, out, stderr := runCLI(t, "--profile", fleetDir, "--tags", fleetTags, "--report-dir", whole)
	t.Logf("whole run:\n%s", out)
	if code != exitFailed {
		t.Fatalf("whole run: exit %d, want 1 (site-b fails)\nstderr:\n%s", code, stderr)
	}
	wr, err := reports.ReadJSON(filepath.Join(whole, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(wr.Sites) != 2 || wr.Sites[0].ID != "site-a" || wr.Sites[1].ID != "site-b" {
		t.Fatalf("sites %+v: want site-a and site-b, in file order", wr.Sites)
	}
	if wr.Sites[0].Verdict != reports.Passed || wr.Sites[1].Verdict != reports.Failed || wr.Verdict != reports.Failed {
		t.Errorf("verdicts: site-a %s, site-b %s, fleet %s; want passed, failed, failed", wr.Sites[0].Verdict, wr.Sites[1].Verdict, wr.Verdict)
	}
	if wr.Summary.Scenarios != wr.Sites[0].Summary.Scenarios+wr.Sites[1].Summary.Scenarios {
		t.Errorf("fleet summary %+v does not add up the sites'", wr.Summary)
	}
	for _, s := range wr.Scenarios {
		if !strings.HasPrefix(s.ID, "site-a/") && !strings.HasPrefix(s.ID, "site-b/") || !strings.HasPrefix(s.Feature, "[site-") {
			t.Errorf("scenario %q of feature %q does not name its site", s.ID, s.Feature)
		}
	}
	for _, f := range []string{reports.HTMLFile, reports.JUnitFile, reports.CucumberFile, "sites/site-a/report.json", "sites/site-b/report.json"} {
		if _, err := os.Stat(filepath.Join(whole, f)); err != nil {
			t.Error(err)
		}
	}
	junit, _ := os.ReadFile(filepath.Join(whole, reports.JUnitFile))
	if !strings.Contains(string(junit), "[site-a]") || !strings.Contains(string(junit), "[site-b]") {
		t.Errorf("junit.xml does not name the sites")
	}

	var shardDirs []string
	loads := 0
	for i := 1; i <= 2; i++ {
		dir := filepath.Join(work, "shard"+string(rune('0'+i)))
		shardDirs = append(shardDirs, dir)
		code, out, stderr := runCLI(t, "--profile", fleetDir, "--tags", fleetTags, "--report-dir", dir, "--shard", string(rune('0'+i))+"/2")
		t.Logf("shard %d/2:\n%s", i, out)
		if code == exitUsage || code == exitBroken {
			t.Fatalf("shard %d/2: exit %d\nstderr:\n%s", i, code, stderr)
		}
		sr, err := reports.ReadJSON(filepath.Join(dir, reports.JSONFile))
		if err != nil {
			t.Fatal(err)
		}
		if !sr.Partial || sr.Shard == nil || sr.Shard.Index != i || !strings.Contains(sr.PartialReason, "shard") {
			t.Errorf("shard %d/2 is not marked partial as a shard: partial %v (%q), shard %+v", i, sr.Partial, sr.PartialReason, sr.Shard)
		}
		if len(sr.PageLoads) == 0 {
			t.Errorf("shard %d/2 ran no page load", i)
		}
		loads += len(sr.PageLoads)
	}
	if loads != len(wr.PageLoads) {
		t.Errorf("the shards ran %d page loads, the whole run %d: not a partition", loads, len(wr.PageLoads))
	}

	// refusals: a missing shard, a shard given twice
	if code, _, stderr := mergeCLI(t, "--report-dir", filepath.Join(work, "m1"), shardDirs[0]); code != exitUsage || !strings.Contains(stderr, "missing") {
		t.Errorf("merge of one shard of two: exit %d, stderr %q; want 2 naming the missing shard", code, stderr)
	}
	if code, _, stderr := mergeCLI(t, "--report-dir", filepath.Join(work, "m2"), shardDirs[0], shardDirs[0]); code != exitUsage || !strings.Contains(stderr, "twice") {
		t.Errorf("merge of a shard twice: exit %d, stderr %q; want 2", code, stderr)
	}
	// --partial: what is there, marked partial
	if code, _, stderr := mergeCLI(t, "--partial", "--report-dir", filepath.Join(work, "m3"), shardDirs[1]); code == exitUsage {
		t.Errorf("merge --partial: exit 2: %s", stderr)
	} else if pr, err := reports.ReadJSON(filepath.Join(work, "m3", reports.JSONFile)); err != nil || !pr.Partial || pr.Merged == nil || !slices.Equal(pr.Merged.Missing, []int{1}) {
		t.Errorf("merge --partial: err %v, report partial %v merged %+v", err, pr != nil && pr.Partial, pr)
	}

	merged := filepath.Join(work, "merged")
	code2, out, stderr := mergeCLI(t, "--report-dir", merged, shardDirs[1], shardDirs[0])
	t.Logf("merge:\n%s", out)
	if code2 != code {
		t.Errorf("merge exit %d, whole run %d\nstderr:\n%s", code2, code, stderr)
	}
	mr, err := reports.ReadJSON(filepath.Join(merged, reports.JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	if mr.Partial != wr.Partial || mr.PartialReason != wr.PartialReason {
		t.Errorf("merged partial %v (%q), whole %v (%q)", mr.Partial, mr.PartialReason, wr.Partial, wr.PartialReason)
	}
	if mr.Verdict != wr.Verdict || mr.Summary != wr.Summary {
		t.Errorf("merged verdict %s %+v, whole %s %+v", mr.Verdict, mr.Summary, wr.Verdict, wr.Summary)
	}
	for i := range wr.Sites {
		if mr.Sites[i].ID != wr.Sites[i].ID || mr.Sites[i].Verdict != wr.Sites[i].Verdict || mr.Sites[i].Summary != wr.Sites[i].Summary {
			t.Errorf("site %d: merged %+v, whole %+v", i, mr.Sites[i], wr.Sites[i])
		}
	}
	wo, mo := outcomes(t, wr), outcomes(t, mr)
	for k, w := range wo {
		if mo[k] != w {
			t.Errorf("%s: whole run %q, merged shards %q", k, w, mo[k])
		}
	}
	for k, m := range mo {
		if _, ok := wo[k]; !ok {
			t.Errorf("%s: only in the merged report: %q", k, m)
		}
	}
	for _, pl := range mr.PageLoads {
		for _, a := range pl.Attachments {
			if _, err := os.Stat(filepath.Join(merged, filepath.FromSlash(a.Path))); err != nil {
				t.Errorf("page load %s: attachment not copied: %v", pl.ID, err)
			}
		}
	}
	for _, f := range []string{reports.HTMLFile, reports.JUnitFile, reports.CucumberFile} {
		if _, err := os.Stat(filepath.Join(merged, f)); err != nil {
			t.Error(err)
		}
	}
}

// merge refuses what is not the shards of one run, before writing anything.
func TestMergeRefusesWhatIsNotOneRun(t *testing.T) {
	work := t.TempDir()
	write := func(name string, shard *reports.ShardRef) string {
		dir := filepath.Join(work, name)
		r := &reports.Report{Profile: reports.ProfileRef{Name: "Example Media", PageURL: "http://127.0.0.1:9/"}, Shard: shard}
		r.Finalize()
		if _, err := reports.WriteAll(dir, r, reports.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	whole := write("whole", nil)
	a1 := write("a1", &reports.ShardRef{Index: 1, Count: 2, Fleet: "aaaa"})
	b2 := write("b2", &reports.ShardRef{Index: 2, Count: 2, Fleet: "bbbb"})
	a2of3 := write("a2of3", &reports.ShardRef{Index: 2, Count: 3, Fleet: "aaaa"})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give the report folders"},
		{[]string{filepath.Join(work, "nowhere")}, "reading the shard"},
		{[]string{whole}, "not a shard"},
		{[]string{a1, b2}, "not shards of the same run"},
		{[]string{a1, a2of3}, "not shards of the same run"},
		{[]string{"--report-dir", a1, a1}, "one of the shards' folders"},
	} {
		out := filepath.Join(work, "out")
		args := tc.args
		if len(args) == 0 || args[0] != "--report-dir" {
			args = append([]string{"--report-dir", out}, args...)
		}
		code, _, stderr := mergeCLI(t, args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("merge %v: exit %d, stderr %q; want 2 saying %q", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(out, reports.JSONFile)); err == nil {
			t.Errorf("merge %v wrote a report", tc.args)
		}
	}
	for _, bad := range []string{"0/2", "3/2", "1", "a/b", "1/0"} {
		if code, _, stderr := runCLI(t, "--shard", bad); code != exitUsage || !strings.Contains(stderr, "--shard") {
			t.Errorf("run --shard %s: exit %d, stderr %q; want 2 naming --shard", bad, code, stderr)
		}
	}
	if code, out, _ := runCLI(t, "--help"); code != exitOK || !strings.Contains(out, "--shard") || !strings.Contains(out, "folder of profiles") {
		t.Errorf("run --help does not tell of fleets and shards:\n%s", out)
	}
}

// The sites' progress lines stay whole and name their site, also when a
// site's scenarios print at once.
func TestPrefixWriterKeepsLinesWhole(t *testing.T) {
	var mu sync.Mutex
	var out strings.Builder
	a := &prefixWriter{mu: &mu, w: &out, prefix: "[a] "}
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Write([]byte("one line\nand a second\n"))
		}()
	}
	wg.Wait()
	a.Write([]byte("half "))
	a.Write([]byte("a line\n"))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 41 || lines[40] != "[a] half a line" {
		t.Fatalf("%d lines, last %q", len(lines), lines[len(lines)-1])
	}
	for _, l := range lines {
		if l != "[a] one line" && l != "[a] and a second" && l != "[a] half a line" {
			t.Errorf("line %q", l)
		}
	}
}

// A folder of one profile is a run of that profile, as before: no sites,
// no prefixes. Two profiles are a fleet: a site each, the worst verdict
// (broken: the browser does not start) and its exit code.
func TestRunOneProfileIsNotAFleet(t *testing.T) {
	noBrowser := filepath.Join(t.TempDir(), "no-chromium")
	one := filepath.Dir(writeProfile(t, validProfile))
	dir := t.TempDir()
	code, out, stderr := runCLI(t, "--profile", one, "--report-dir", dir, "--browser-bin", noBrowser, "--tags", "@tag")
	if code != exitBroken {
		t.Fatalf("exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	r := readReport(t, dir)
	if r.Sites != nil || r.Fleet != nil || r.Shard != nil || r.Profile.Name != "Example Media" || strings.Contains(r.Scenarios[0].ID, "profile/") {
		t.Errorf("a run of one profile reads as a fleet: sites %v fleet %v profile %+v scenario %q", r.Sites, r.Fleet, r.Profile, r.Scenarios[0].ID)
	}

	two := t.TempDir()
	for _, name := range []string{"b.yaml", "a.yml"} {
		b, _ := os.ReadFile(filepath.Join(one, "profile.yaml"))
		if err := os.WriteFile(filepath.Join(two, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(two, "jwks.json"), []byte(`{"keys":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	code, out, stderr = runCLI(t, "--profile", two, "--report-dir", dir, "--browser-bin", noBrowser, "--tags", "@tag")
	if code != exitBroken {
		t.Fatalf("fleet: exit %d, want 3\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	r = readReport(t, dir)
	if len(r.Sites) != 2 || r.Sites[0].ID != "a" || r.Sites[1].ID != "b" || r.Verdict != reports.Broken || r.Summary.Broken != 6 {
		t.Fatalf("fleet: sites %+v verdict %s summary %+v", r.Sites, r.Verdict, r.Summary)
	}
	if !strings.Contains(out, "[a] ") || !strings.Contains(out, "[b] ") {
		t.Errorf("the progress lines do not name their site:\n%s", out)
	}
	if _, err := reports.ReadJSON(filepath.Join(dir, "sites", "a", reports.JSONFile)); err != nil {
		t.Errorf("site a's own report: %v", err)
	}
}
