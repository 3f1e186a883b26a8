package main

// Flags: every command parses its flags with spf13/pflag, so that every
// message speaks the --flag form of the README and --help.
//
// To add a flag to a command, declare it on the command's set with a usage
// whose `BACKQUOTED` word names the value, then parse with parseFlags:
//
//	fl := newFlags("run")
//	at := fl.String("at", "", "judge time claims as of `TIME` (RFC 3339)")
//	if code, done := parseFlags(e, fl, "run", args, printUsage); done {
//		return code
//	}
//
// A bad flag is a one-line error with the nearest valid flag and a pointer
// to `qualcert help CMD` (exit 2), never the whole help; --help prints the
// help on stdout (exit 0). Flags may come before or after positional
// arguments, and the single-dash form of a long flag (-profile, from the Go
// flag package this CLI used before) is still read as --profile.

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/qualcert/qualcert/steps"
)

// newFlags makes the flag set of `qualcert NAME`; parseFlags prints its
// errors, so pflag prints nothing itself.
func newFlags(name string) *pflag.FlagSet {
	fl := pflag.NewFlagSet("qualcert "+name, pflag.ContinueOnError)
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	fl.SortFlags = false
	flagSets.Store(name, fl)
	return fl
}

// flagSets holds the last flag set made for each command, so that a test can
// check every declared flag against the command's help.
var flagSets sync.Map

func declaredFlags(name string) *pflag.FlagSet {
	fl, _ := flagSets.Load(name)
	fs, _ := fl.(*pflag.FlagSet)
	return fs
}

// parseFlags parses args with fl. --help prints usage to stdout; a bad flag
// prints one line naming it (with the nearest valid flag) to stderr. done
// says the command should return code at once.
func parseFlags(e env, fl *pflag.FlagSet, name string, args []string, usage func(w io.Writer)) (code int, done bool) {
	err := fl.Parse(longSingleDash(fl, args))
	if err == nil {
		return 0, false
	}
	if errors.Is(err, pflag.ErrHelp) {
		usage(e.stdout)
		return exitOK, true
	}
	fmt.Fprintf(e.stderr, "qualcert %s: %s\nRun 'qualcert help %s' for its flags.\n", name, flagError(fl, err), strings.Fields(name)[0])
	return exitUsage, true
}

// flagError rewords pflag's errors in the --flag form, with the nearest
// valid flag for an unknown one.
func flagError(fl *pflag.FlagSet, err error) string {
	var notExist *pflag.NotExistError
	var needsValue *pflag.ValueRequiredError
	var invalid *pflag.InvalidValueError
	switch {
	case errors.As(err, &notExist):
		given := notExist.GetSpecifiedName()
		if given == "" {
			given = notExist.GetSpecifiedShortnames()
		}
		msg := "unknown flag --" + given
		if near := nearest(given, flagNames(fl), 3); len(near) > 0 {
			msg += " (did you mean --" + strings.Join(near, ", --") + "?)"
		}
		return msg
	case errors.As(err, &needsValue):
		f := needsValue.GetFlag()
		arg, _ := pflag.UnquoteUsage(f)
		return fmt.Sprintf("--%s needs a value (--%s %s)", f.Name, f.Name, arg)
	case errors.As(err, &invalid):
		f := invalid.GetFlag()
		want := map[string]string{
			"int": "a whole number", "uint": "a whole number", "duration": "a Go duration such as 500ms, 5m or 1h",
			"bool": "true or false", "float64": "a number",
		}[f.Value.Type()]
		if want == "" {
			return fmt.Sprintf("--%s %q: %v", f.Name, invalid.GetValue(), errors.Unwrap(err))
		}
		return fmt.Sprintf("--%s %q: want %s", f.Name, invalid.GetValue(), want)
	}
	return err.Error()
}

func flagNames(fl *pflag.FlagSet) []string {
	var names []string
	fl.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	return names
}

// longSingleDash rewrites -name and -name=value to --name for the long flags
// of fl, the form Go's flag package accepted.
func longSingleDash(fl *pflag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		if len(a) > 2 && a[0] == '-' && a[1] != '-' {
			name, _, _ := strings.Cut(a[1:], "=")
			if fl.Lookup(name) != nil || name == "help" {
				a = "-" + a
			}
		}
		out = append(out, a)
	}
	return out
}

// printFlags writes the flags of fl in the --name form, with their value
// names and defaults.
func printFlags(w io.Writer, fl *pflag.FlagSet) {
	fmt.Fprint(w, fl.FlagUsagesWrapped(100))
}

// nearest returns the candidates closest to s by edit distance, at most max
// of them, when they are close enough to be a likely typo (or s is a prefix
// of them).
func nearest(s string, candidates []string, max int) []string {
	type scored struct {
		name string
		d    int
	}
	var out []scored
	limit := len(s)/3 + 1
	for _, c := range candidates {
		d := steps.EditDistance(strings.ToLower(s), strings.ToLower(c))
		if strings.HasPrefix(c, s) && len(s) >= 2 {
			d = min(d, 1)
		}
		if d <= limit {
			out = append(out, scored{c, d})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].d < out[j].d })
	var names []string
	for i := 0; i < len(out) && i < max; i++ {
		names = append(names, out[i].name)
	}
	return names
}
