package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/qualcert/qualcert/harness/browser/gridtest"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
)

func TestRunBrowserEndpointUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--browser-url", "127.0.0.1:9222"}, "--browser-url"},
		{[]string{"--browser-url", "ftp://127.0.0.1:9222"}, "--browser-url"},
		{[]string{"--browser-url", "http://127.0.0.1:99999"}, "bad port"},
		{[]string{"--grid", "ws://127.0.0.1:4444"}, "--grid"},
		{[]string{"--grid", "http://"}, "--grid"},
		{[]string{"--grid", "http://127.0.0.1:4444", "--browser-url", "ws://127.0.0.1:1"}, "not both"},
		{[]string{"--browser-per-load"}, "needs --browser-url"},
		{[]string{"--grid-no-sandbox"}, "needs --grid"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("run %v: exit %d, stderr %q; want exit 2 naming %q", tc.args, code, stderr, tc.want)
		}
	}
}

// outcome is what must not depend on where the browser runs: the verdict,
// each scenario's status, and the findings (code, level, campaign,
// scenario).
func outcome(r reports.Report) []string {
	out := []string{"verdict " + r.Verdict}
	for _, s := range r.Scenarios {
		out = append(out, "scenario "+s.ID+" "+s.Status)
	}
	for _, f := range r.Findings {
		out = append(out, "finding "+string(f.Code)+" "+string(f.Level)+" "+f.Campaign+" "+f.Scenario)
	}
	sort.Strings(out)
	return out
}

// slowMachineProfile writes the demo profile of variant with a scenario
// timeout of two minutes: the comparison is of verdicts and codes, and on
// a loaded machine a fresh grid session alone can take 15 s.
func slowMachineProfile(t *testing.T, srv *demo.Server, variant, path string) string {
	t.Helper()
	raw, err := srv.ProfileYAML(variant)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	timing, _ := m["timing"].(map[string]any)
	if timing == nil {
		timing = map[string]any{}
	}
	timing["timeout"] = "2m"
	m["timing"] = timing
	out, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// envMessages lists the messages of a report's env.* findings (why a
// load reached no verdict).
func envMessages(r reports.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		if strings.HasPrefix(string(f.Code), "env.") {
			b.WriteString(string(f.Code) + ": " + f.Message + "\n")
		}
	}
	return b.String()
}

// cancelOnProgress cancels a run at its first finished scenario.
type cancelOnProgress struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnProgress) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "\n  ") {
		w.cancel()
	}
	return len(p), nil
}

// A certification on a real Selenium Grid 4 gives the verdicts and codes
// of a local one, and leaves no session on the grid: after a passing and a
// failing certification, after a broken one (unreachable page), and after
// one interrupted mid-run (as by SIGINT).
func TestRunOnAGrid(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Selenium Grid and Chromium")
	}
	if _, err := exec.LookPath(defaultChromium); err != nil {
		t.Skip("no Chromium at " + defaultChromium)
	}
	g := gridtest.Start(t, 2)
	gridArgs := []string{"--grid", g.URL}
	if os.Geteuid() == 0 {
		gridArgs = append(gridArgs, "--grid-no-sandbox")
	}
	srv, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	work := t.TempDir()

	for _, variant := range []string{"jws-inline", "expired"} {
		t.Run(variant, func(t *testing.T) {
			p := slowMachineProfile(t, srv, variant, filepath.Join(work, variant+".yaml"))
			local, onGrid := filepath.Join(work, variant, "local"), filepath.Join(work, variant, "grid")
			lcode, lout, lerr := runCLI(t, "--profile", p, "--report-dir", local)
			gcode, gout, gerr := runCLI(t, append([]string{"--profile", p, "--report-dir", onGrid}, gridArgs...)...)
			g.WaitNoSessions(t, "after a certification on the grid")
			if lcode != gcode {
				t.Fatalf("exit %d locally, %d on the grid\nlocal:\n%s%s\ngrid:\n%s%s", lcode, gcode, lout, lerr, gout, gerr)
			}
			lr, gr := readReport(t, local), readReport(t, onGrid)
			lo, gro := outcome(lr), outcome(gr)
			if strings.Join(lo, "\n") != strings.Join(gro, "\n") {
				t.Fatalf("outcomes differ\nlocal:\n%s\n%s\ngrid:\n%s\n%s", strings.Join(lo, "\n"), envMessages(lr), strings.Join(gro, "\n"), envMessages(gr))
			}
			t.Logf("exit %d, %d outcome lines alike", gcode, len(gro))
		})
	}

	t.Run("broken", func(t *testing.T) {
		dir := t.TempDir()
		code, out, stderr := runCLI(t, append([]string{"--profile", writeProfile(t, validProfile), "--report-dir", dir, "--tags", "@tag"}, gridArgs...)...)
		if code != exitBroken {
			t.Errorf("exit %d, want 3\n%s%s", code, out, stderr)
		}
		g.WaitNoSessions(t, "after a broken run")
	})

	t.Run("interrupted", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		out := &cancelOnProgress{cancel: cancel}
		var errOut bytes.Buffer
		args := append([]string{"run", "--report-dir", t.TempDir()}, gridArgs...)
		code := dispatch(ctx, env{stdin: strings.NewReader(""), stdout: out, stderr: &errOut}, args)
		if ctx.Err() == nil {
			t.Fatalf("the run ended before its first scenario finished: exit %d\n%s%s", code, out.buf.String(), errOut.String())
		}
		g.WaitNoSessions(t, "after an interrupted run")
		t.Logf("interrupted run: exit %d", code)
	})
}
