package main

import (
	"regexp"
	"strings"
	"testing"
)

// Every command's --help goes to stdout only, exits 0, and lists its flags
// in the --name form the README and the contract use.
func TestHelpOfEveryCommand(t *testing.T) {
	goStyle := regexp.MustCompile(`(?m)^\s+-[a-z]`) // "  -profile FILE": the flag package's own form
	for _, c := range commands {
		args := []string{c.name, "--help"}
		if c.name == "keys" || c.name == "token" {
			args = []string{c.name, map[string]string{"keys": "generate", "token": "mint"}[c.name], "--help"}
		}
		code, out, stderr := run(t, "", args...)
		if code != exitOK || stderr != "" {
			t.Errorf("qualcert %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
		}
		if !strings.Contains(out, "Usage: qualcert "+c.name) || !strings.Contains(out, "  --") {
			t.Errorf("qualcert %s: no usage with --flags:\n%s", strings.Join(args, " "), out)
		}
		if m := goStyle.FindString(out); m != "" {
			t.Errorf("qualcert %s: a flag in -name form %q:\n%s", strings.Join(args, " "), m, out)
		}
	}
}

func TestABadFlagIsAUsageError(t *testing.T) {
	for _, name := range []string{"run", "demo"} {
		code, out, stderr := run(t, "", name, "--bogus")
		if code != exitUsage || out != "" || !strings.Contains(stderr, "bogus") || !strings.Contains(stderr, "Usage: qualcert "+name) {
			t.Errorf("qualcert %s --bogus: exit %d, stdout %q, stderr %q", name, code, out, stderr)
		}
	}
}
