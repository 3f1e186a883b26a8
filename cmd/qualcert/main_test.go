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
		args := helpArgs(c.name)
		code, out, stderr := run(t, "", args...)
		if code != exitOK || stderr != "" {
			t.Errorf("qualcert %s: exit %d, stderr %q", strings.Join(args, " "), code, stderr)
		}
		fl := declaredFlags(strings.Join(args[:len(args)-1], " "))
		if !strings.Contains(out, "Usage: qualcert "+c.name) || (fl != nil && fl.HasFlags() && !strings.Contains(out, "  --")) {
			t.Errorf("qualcert %s: no usage with --flags:\n%s", strings.Join(args, " "), out)
		}
		if m := goStyle.FindString(out); m != "" {
			t.Errorf("qualcert %s: a flag in -name form %q:\n%s", strings.Join(args, " "), m, out)
		}
	}
}

// A bad flag is one short line on stderr naming it, with the nearest valid
// flag and where the help is: never the whole help, never the -name form.
func TestABadFlagIsAShortUsageError(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--bogus"}, []string{"qualcert run: unknown flag --bogus", "qualcert help run"}},
		{[]string{"run", "--profle", "x.yaml"}, []string{"unknown flag --profle (did you mean --profile?)"}},
		{[]string{"demo", "--adr", ":0"}, []string{"did you mean --addr?"}},
		{[]string{"verify", "--jwsk", "k.json", "TOKEN"}, []string{"did you mean --jwks?"}},
		{[]string{"keys", "generate", "--alg"}, []string{"--alg needs a value (--alg ALG)"}},
		{[]string{"token", "mint", "--lifetime", "5"}, []string{`--lifetime "5": want a Go duration`}},
		{[]string{"run", "--concurrency", "two"}, []string{`--concurrency "two": want a whole number`}},
		{[]string{"keys", "generate", "--alg", "ES257", "--out", "x"}, []string{`--alg "ES257" is not supported (did you mean ES256`, "supported: RS256"}},
		{[]string{"rn"}, []string{`unknown command "rn" (did you mean run?)`}},
		{[]string{"help", "verfy"}, []string{`unknown command "verfy" (did you mean verify?)`}},
	} {
		code, out, stderr := run(t, "", tc.args...)
		if code != exitUsage || out != "" {
			t.Errorf("qualcert %v: exit %d, stdout %q", tc.args, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("qualcert %v: stderr %q does not say %q", tc.args, stderr, w)
			}
		}
		if strings.Contains(stderr, "Usage:") || strings.Count(stderr, "\n") > 3 {
			t.Errorf("qualcert %v: the whole help instead of a short error:\n%s", tc.args, stderr)
		}
		if m := regexp.MustCompile(`(^|[\s(])-[a-z]{2,}`).FindString(stderr); m != "" {
			t.Errorf("qualcert %v: a flag in -name form %q: %s", tc.args, m, stderr)
		}
	}
}

// qualcert help CMD prints the command's own help, as CMD --help does.
func TestHelpCommand(t *testing.T) {
	for _, c := range commands {
		want := helpArgs(c.name)
		code, out, _ := run(t, "", "help", c.name)
		_, direct, _ := run(t, "", want...)
		if code != exitOK || out != direct || !strings.Contains(out, "Usage: qualcert "+c.name) {
			t.Errorf("qualcert help %s: exit %d, output differs from %v:\n%s", c.name, code, want, out)
		}
	}
	if code, out, _ := run(t, "", "help"); code != exitOK || !strings.Contains(out, "Commands:") {
		t.Errorf("qualcert help: exit %d\n%s", code, out)
	}
}

// Every flag a command declares is in its help, so a flag added in code
// cannot go undocumented.
func TestEveryFlagIsInItsHelp(t *testing.T) {
	for _, c := range commands {
		args := helpArgs(c.name)
		_, out, _ := run(t, "", args...)
		fl := declaredFlags(strings.Join(args[:len(args)-1], " "))
		if fl == nil {
			t.Errorf("qualcert %s: no flag set recorded", c.name)
			continue
		}
		for _, name := range flagNames(fl) {
			if !strings.Contains(out, "--"+name) {
				t.Errorf("qualcert %s --help does not document --%s", c.name, name)
			}
		}
	}
}

// The single-dash form of a long flag (Go's flag package, used before)
// still works.
func TestSingleDashLongFlagsStillWork(t *testing.T) {
	code, out, stderr := run(t, "", "keys", "generate", "-alg", "ES256", "-out", t.TempDir())
	if code != exitOK || !strings.Contains(out, "alg ES256") {
		t.Errorf("exit %d\n%s\n%s", code, out, stderr)
	}
}

// helpArgs asks a command for its help, through its sub-command if it has
// one (so that the sub-command's flag set is made).
func helpArgs(name string) []string {
	if sub := map[string]string{"keys": "generate", "token": "mint", "features": "export"}[name]; sub != "" {
		return []string{name, sub, "--help"}
	}
	return []string{name, "--help"}
}
