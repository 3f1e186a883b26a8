// Command qualcert certifies a publisher's integration of Qualifio campaigns
// that receive the participant's identity at campaign load. See README.md and
// CONTRACT §1 for the commands; each sub-command lives in a file of its own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
)

// Version is the tool version written into reports.
var Version = "0.1.0"

// Exit codes of CONTRACT §1.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
	exitBroken = 3
)

// env is what a sub-command may touch: its streams, so tests can run it.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) int
}

var commands = []command{
	{"run", "certify a page (the embedded demo when no --profile is given)", cmdRun},
	{"verify", "verify one token with the reference verifier", cmdVerify},
	{"demo", "serve the embedded demo publisher", cmdDemo},
	{"keys", "generate keys for test set-ups (keys generate)", cmdKeys},
	{"token", "mint a test token as a publisher would (token mint)", cmdToken},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "qualcert %s: certify Qualifio identity-at-campaign-load integrations\n\nUsage:\n  qualcert <command> [flags]\n\nCommands:\n", Version)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'qualcert <command> --help' for a command's flags.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(e.stdout)
		return exitOK
	case "--version", "-version", "version":
		fmt.Fprintf(e.stdout, "qualcert %s\n", Version)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			if slices.Contains(args[1:], "--version") || slices.Contains(args[1:], "-version") {
				fmt.Fprintf(e.stdout, "qualcert %s\n", Version)
				return exitOK
			}
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "qualcert: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

// printFlags writes the flags of fl in the --name form that the README, the
// contract and the other commands' help use (the flag package prints -name).
func printFlags(w io.Writer, fl *flag.FlagSet) {
	fl.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		if d := f.DefValue; d != "" && d != "false" && d != "0" {
			usage += " (default " + d + ")"
		}
		fmt.Fprintf(w, "%s\n      %s\n", line, usage)
	})
}

// parseFlags parses args with fl. --help prints usage to stdout; a bad flag
// prints the flag package's error, then usage, to stderr. done says the
// command should return code at once.
func parseFlags(fl *flag.FlagSet, e env, args []string, usage func(w io.Writer)) (code int, done bool) {
	fl.SetOutput(e.stderr)
	fl.Usage = func() {} // printed below: once, on the right stream
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(e.stdout)
			return exitOK, true
		}
		fmt.Fprintln(e.stderr)
		usage(e.stderr)
		return exitUsage, true
	}
	return 0, false
}

// subcommand checks that args start with the one sub-command of a command
// (keys generate, token mint) and returns the arguments after it. done says
// the command should return code at once: help was printed (to stdout when
// asked for, to stderr with no sub-command), or the sub-command is unknown.
func subcommand(e env, args []string, command, only, usage string) (rest []string, code int, done bool) {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return nil, exitUsage, true
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(e.stdout, usage)
		return nil, exitOK, true
	case only:
	default:
		fmt.Fprintf(e.stderr, "qualcert %s: unknown sub-command %q (only: %s)\n", command, args[0], only)
		return nil, exitUsage, true
	}
	if helpRequested(e, args[1:], usage) {
		return nil, exitOK, true
	}
	return args[1:], 0, false
}
