package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// beMain makes the test binary qualcert itself when the test re-runs it
// (so that a signal reaches a real process, as a user's Ctrl-C does).
const beMain = "QUALCERT_TEST_BE_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(beMain) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestInterruptAtEveryStage: SIGINT at each stage of a run (setting up,
// starting the browser, opening the first page, mid-scenario, writing the
// reports) ends qualcert with exit 3 (broken: no verdict, env.interrupted
// in report.json), or with the verdict's code when the verdict was already
// reached, and leaves no Chromium process and no temporary profile behind.
func TestInterruptAtEveryStage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := exec.LookPath(defaultChromium); err != nil {
		t.Skip("no Chromium at " + defaultChromium)
	}
	stages := []struct {
		name string
		at   func(line string, done int, total int) bool // when to send SIGINT, line by line
	}{
		{"setting up", func(l string, _, _ int) bool { return strings.Contains(l, "starting the embedded demo publisher") }},
		{"starting the browser", func(l string, _, _ int) bool { return strings.Contains(l, "starting the browser") }},
		{"opening the first page", func(l string, _, _ int) bool { return strings.Contains(l, "page load 1: opening") }},
		// A scenario has passed; others are mid-page-load (throttled, faults).
		{"mid-scenario", func(l string, _, _ int) bool { return strings.HasPrefix(strings.TrimSpace(l), "passed ") }},
		{"writing the reports", func(_ string, done, total int) bool { return total > 0 && done == total }},
	}
	for _, st := range stages {
		t.Run(st.name, func(t *testing.T) {
			// The run's TMPDIR, where its Chromium profile goes: short, as
			// Chromium's socket path inside it must stay under 108 bytes.
			tmp, err := os.MkdirTemp("/tmp", "qcint")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.RemoveAll(tmp) })
			out := filepath.Join(t.TempDir(), "report")
			cmd := exec.Command(os.Args[0], "run", "--report-dir", out)
			cmd.Env = append(os.Environ(), beMain+"=1", "TMPDIR="+tmp)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			var lines []string
			signalled := false
			var sentAt time.Time
			sc := bufio.NewScanner(stdout)
			done, total := 0, 0
			for sc.Scan() {
				l := sc.Text()
				lines = append(lines, l)
				if _, err := fmt.Sscanf(strings.TrimSpace(after(l, "browser ready in ")), "%s %d scenarios", new(string), &total); err != nil && total == 0 {
					total = 0
				}
				for _, s := range []string{"passed ", "failed ", "skipped ", "broken "} {
					if strings.HasPrefix(strings.TrimSpace(l), s) {
						done++
					}
				}
				if !signalled && st.at(l, done, total) {
					signalled, sentAt = true, time.Now()
					if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
						t.Logf("signal: %v (the run had ended)", err)
					}
				}
			}
			go func() { exited <- cmd.Wait() }()
			var code int
			select {
			case err := <-exited:
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
			case <-time.After(2 * time.Minute):
				_ = cmd.Process.Kill()
				t.Fatalf("qualcert did not exit within 2 min of SIGINT\n%s\n%s", strings.Join(lines, "\n"), stderr.String())
			}
			if !signalled {
				t.Fatalf("the stage never came (exit %d)\n%s\n%s", code, strings.Join(lines, "\n"), stderr.String())
			}
			t.Logf("exit %d, %v after SIGINT; stderr: %.200s", code, time.Since(sentAt).Round(time.Millisecond), stderr.String())
			if st.name == "mid-scenario" || st.name == "opening the first page" {
				// The run's own report says it was interrupted.
				raw, err := os.ReadFile(filepath.Join(out, "report.json"))
				if err != nil {
					t.Errorf("no report.json after an interrupted run: %v", err)
				} else if !bytes.Contains(raw, []byte(`"verdict": "broken"`)) || !bytes.Contains(raw, []byte("env.interrupted")) {
					t.Errorf("report.json does not say broken by env.interrupted:\n%.2000s", raw)
				}
			}
			verdictReached := slicesContains(lines, "qualcert PASSED")
			if code != exitBroken && !(verdictReached && code == exitOK) {
				t.Errorf("exit %d, want %d (interrupted, no verdict)\n%s\n%s", code, exitBroken, strings.Join(lines, "\n"), stderr.String())
			}
			if left := chromiumUnder(tmp); len(left) > 0 {
				t.Errorf("Chromium processes left: %v", left)
			}
			entries, _ := os.ReadDir(tmp)
			for _, e := range entries {
				t.Errorf("left in TMPDIR: %s", e.Name())
			}
		})
	}
}

func after(s, sep string) string {
	_, a, ok := strings.Cut(s, sep)
	if !ok {
		return ""
	}
	return a
}

func slicesContains(lines []string, part string) bool {
	for _, l := range lines {
		if strings.Contains(l, part) {
			return true
		}
	}
	return false
}

// chromiumUnder lists the live processes whose command line names dir
// (a Chromium whose --user-data-dir is in it), waiting up to 10 s for
// them to go (a killed process group takes a moment to die).
func chromiumUnder(dir string) []string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var left []string
		procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range procs {
			raw, err := os.ReadFile(p)
			if err == nil && bytes.Contains(raw, []byte(dir)) {
				left = append(left, filepath.Base(filepath.Dir(p))+": "+strings.ReplaceAll(string(raw[:min(len(raw), 80)]), "\x00", " "))
			}
		}
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(200 * time.Millisecond)
	}
}
