package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/profile"
)

func TestDemoHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := cmdDemo(t.Context(), env{stdout: &out, stderr: &errOut}, []string{"--help"}); code != exitOK {
		t.Fatalf("--help: exit %d, stderr %s", code, errOut.String())
	}
	for _, want := range []string{"Usage: qualcert demo", "-addr", "127.0.0.1:8080", "qualcert run", "-write-profiles"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help lacks %q", want)
		}
	}
	if errOut.Len() > 0 || strings.Count(out.String(), "Usage:") != 1 {
		t.Errorf("--help prints the usage once, to stdout only; stderr %q", errOut.String())
	}
}

func TestDemoUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}, {"extra-argument"}} {
		var out, errOut bytes.Buffer
		if code := cmdDemo(t.Context(), env{stdout: &out, stderr: &errOut}, args); code != exitUsage || !strings.Contains(errOut.String(), "qualcert help demo") || out.Len() > 0 {
			t.Errorf("%v: exit %d, stderr %q: want %d with a pointer to the help on stderr", args, code, errOut.String(), exitUsage)
		}
	}
	var out, errOut bytes.Buffer
	if code := cmdDemo(t.Context(), env{stdout: &out, stderr: &errOut}, []string{"--addr", "256.0.0.1:bad"}); code != exitFailed || !strings.Contains(errOut.String(), "listening on") {
		t.Errorf("a bad address: exit %d, stderr %q", code, errOut.String())
	}
}

// TestDemoServesUntilCancelled runs the command as a user would: it prints
// the URL and the login, serves the index and the profiles it wrote, and
// stops with exit 0 when the context ends (Ctrl-C).
func TestDemoServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	profiles := t.TempDir()
	pr, pw := io.Pipe()
	var errOut bytes.Buffer
	exit := make(chan int, 1)
	go func() {
		exit <- cmdDemo(ctx, env{stdout: pw, stderr: &errOut}, []string{"--addr", "127.0.0.1:0", "--write-profiles", profiles})
		pw.Close()
	}()

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var printed []string
	deadline := time.After(20 * time.Second)
	for len(printed) == 0 || !strings.HasPrefix(printed[len(printed)-1], "Press Ctrl-C") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the command ended early (exit %d): %q %s", <-exit, printed, errOut.String())
			}
			printed = append(printed, l)
		case <-deadline:
			t.Fatalf("no start-up message: %q", printed)
		}
	}
	url, ok := strings.CutPrefix(printed[0], "Demo Media is serving on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", printed[0])
	}
	if all := strings.Join(printed, "\n"); !strings.Contains(all, "alice@demo-media.test") || !strings.Contains(all, "password") {
		t.Errorf("the login is not printed: %s", all)
	}
	resp, err := http.Get(url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("index: %d", resp.StatusCode)
	}
	p, err := profile.Load(filepath.Join(profiles, "jws-inline.yaml"))
	if err != nil {
		t.Fatalf("written profile: %v", err)
	}
	if p.Page.URL != url+"/v/jws-inline" {
		t.Errorf("profile page %s", p.Page.URL)
	}
	keyFile := ""
	if q, err := profile.Load(filepath.Join(profiles, "jwe-nested.yaml")); err == nil {
		keyFile = q.Token.DecryptionKeyFile
	} else {
		t.Error(err)
	}

	cancel()
	go func() {
		for range lines { // drain "Stopping…"
		}
	}()
	select {
	case code := <-exit:
		if code != exitOK {
			t.Errorf("exit %d after Ctrl-C, stderr %s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the command does not stop when its context ends")
	}
	if _, err := http.Get(url + "/"); err == nil {
		t.Error("the demo still serves after the command ended")
	}
	if _, err := os.Stat(keyFile); err == nil {
		t.Errorf("the demo's key %s is left behind", keyFile)
	}
}
