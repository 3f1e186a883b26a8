// Command qualcert certifies a publisher's integration of Qualifio campaigns
// that receive the participant's identity at campaign load. See README.md and
// CONTRACT §1 for the commands; each sub-command lives in a file of its own.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"slices"
	"strings"
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
	// resolver resolves the key source's and user-info's hosts (verify);
	// nil = the system's. Tests give one that never leaves the process.
	resolver *net.Resolver
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e env, args []string) int
}

var commands = []command{
	{"run", "certify a page (the embedded demo when no --profile is given)", cmdRun},
	{"merge", "join the report folders of a run's shards (run --shard i/n)", cmdMerge},
	{"verify", "verify one token with the reference verifier", cmdVerify},
	{"demo", "serve the embedded demo publisher", cmdDemo},
	{"keys", "generate keys for test set-ups (keys generate)", cmdKeys},
	{"token", "mint a test token as a publisher would (token mint)", cmdToken},
	{"steps", "list the Gherkin steps your own scenarios can use", cmdSteps},
	{"codes", "list the finding codes: level, requirement, hint", cmdCodes},
	{"features", "write the built-in suites into a folder (features export)", cmdFeatures},
	{"schema", "print the JSON Schema of the profile or of report.json", cmdSchema},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "qualcert %s: certify Qualifio identity-at-campaign-load integrations\n\nUsage:\n  qualcert <command> [flags]\n\nCommands:\n", Version)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'qualcert help <command>' (or 'qualcert <command> --help') for a command's flags.\n")
	fmt.Fprint(w, `
Your own scenarios: 'qualcert features export DIR' writes the built-in suites,
'qualcert steps' lists the sentences, 'qualcert run --features DIR' adds your
feature files to the suite, --tags 'not @throttled' chooses scenarios. Your own
steps in Go, with go test or the godog CLI: package
github.com/qualcert/qualcert/steps (steps.NewSuite), as in the repository's
docs/extending.md and examples/custom-suite.
`)
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
	case "-h", "--help", "-help":
		usage(e.stdout)
		return exitOK
	case "help":
		return help(ctx, e, args[1:])
	case "--version", "-version", "version":
		fmt.Fprintf(e.stdout, "qualcert %s\n", Version)
		return exitOK
	}
	if c, ok := lookup(args[0]); ok {
		if slices.Contains(args[1:], "--version") || slices.Contains(args[1:], "-version") {
			fmt.Fprintf(e.stdout, "qualcert %s\n", Version)
			return exitOK
		}
		return c.run(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "qualcert: unknown command %q%s\nRun 'qualcert --help' for the commands.\n", args[0], didYouMean(args[0], commandNames()))
	return exitUsage
}

// help is `qualcert help [CMD [SUB]]`: the help of a command, on stdout.
func help(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		usage(e.stdout)
		return exitOK
	}
	c, ok := lookup(args[0])
	if !ok {
		fmt.Fprintf(e.stderr, "qualcert help: unknown command %q%s\nRun 'qualcert --help' for the commands.\n", args[0], didYouMean(args[0], commandNames()))
		return exitUsage
	}
	return c.run(ctx, e, append(append([]string(nil), args[1:]...), "--help"))
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func commandNames() []string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return names
}

// didYouMean is " (did you mean X?)" naming the nearest of candidates, or "".
func didYouMean(s string, candidates []string) string {
	if near := nearest(s, candidates, 2); len(near) > 0 {
		return " (did you mean " + strings.Join(near, " or ") + "?)"
	}
	return ""
}

// subcommand checks that args start with the one sub-command of a command
// (keys generate, token mint) and returns the arguments after it. done says
// the command should return code at once: help was printed (to stdout when
// asked for, to stderr with no sub-command), or the sub-command is unknown.
func subcommand(e env, args []string, command, only string, usage func(io.Writer)) (rest []string, code int, done bool) {
	if len(args) == 0 {
		usage(e.stderr)
		return nil, exitUsage, true
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		usage(e.stdout)
		return nil, exitOK, true
	case only:
	default:
		fmt.Fprintf(e.stderr, "qualcert %s: unknown sub-command %q (only: %s)\nRun 'qualcert help %s' for its flags.\n", command, args[0], only, command)
		return nil, exitUsage, true
	}
	return args[1:], 0, false
}
