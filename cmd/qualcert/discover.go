package main

// The discovery commands: what a publisher needs to read and extend the
// suite without the source. steps, codes and schema print what the code
// holds; features export writes the embedded suites out.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/qualcert/qualcert/features"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/reports"
	"github.com/qualcert/qualcert/steps"
)

const stepsUsage = `Usage: qualcert steps [--json]

Lists every Gherkin step qualcert defines: the sentence to write (with an
example for the ones that take a value), what it does or asserts, and the
finding codes it asserts on (qualcert codes explains them). Your own feature
files (qualcert run --features DIR) use these sentences, after any keyword:
Given, When, Then, And, But. A sentence that matches no step fails its
scenario, naming the nearest steps.

Flags:
`

func cmdSteps(ctx context.Context, e env, args []string) int {
	fl := newFlags("steps")
	asJSON := fl.Bool("json", false, "print a JSON array of {kind, pattern, example, asserts, codes}")
	printUsage := func(w io.Writer) { fmt.Fprint(w, stepsUsage); printFlags(w, fl) }
	if code, done := parseFlags(e, fl, "steps", args, printUsage); done {
		return code
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(e.stderr, "qualcert steps: unexpected argument %q\nRun 'qualcert help steps' for its flags.\n", fl.Arg(0))
		return exitUsage
	}
	list := steps.Steps()
	if *asJSON {
		return printJSON(e, list)
	}
	kind := ""
	for _, s := range list {
		if s.Kind != kind {
			kind = s.Kind
			fmt.Fprintf(e.stdout, "%s\n", kind)
		}
		fmt.Fprintf(e.stdout, "  %s %s\n", kind, s.Example)
		if regexp.MustCompile(s.Pattern).NumSubexp() > 0 {
			fmt.Fprintf(e.stdout, "      pattern: %s\n", s.Pattern)
		}
		fmt.Fprintf(e.stdout, "      %s\n", s.Asserts)
		if len(s.Codes) > 0 {
			var codes []string
			for _, c := range s.Codes {
				codes = append(codes, string(c))
			}
			fmt.Fprintf(e.stdout, "      codes: %s\n", strings.Join(codes, ", "))
		}
	}
	return exitOK
}

const codesUsage = `Usage: qualcert codes [--json]

Lists the finding catalogue: every code a run or qualcert verify can report,
with its level (must fails the run, should warns, info informs), the
requirement it enforces, what it means and the hint on what to change.
Codes are stable: new ones are added, none is renamed.

Flags:
`

// codeEntry is one code as `qualcert codes --json` prints it.
type codeEntry struct {
	Code        finding.Code  `json:"code"`
	Level       finding.Level `json:"level"`
	Requirement string        `json:"requirement"`
	Summary     string        `json:"summary"`
	Hint        string        `json:"hint"`
}

func catalogueEntries() []codeEntry {
	var out []codeEntry
	for _, c := range finding.Codes() {
		s, _ := finding.Lookup(c)
		out = append(out, codeEntry{Code: c, Level: s.Level, Requirement: s.Requirement, Summary: s.Summary, Hint: s.Hint})
	}
	return out
}

func cmdCodes(ctx context.Context, e env, args []string) int {
	fl := newFlags("codes")
	asJSON := fl.Bool("json", false, "print a JSON array of {code, level, requirement, summary, hint}")
	printUsage := func(w io.Writer) { fmt.Fprint(w, codesUsage); printFlags(w, fl) }
	if code, done := parseFlags(e, fl, "codes", args, printUsage); done {
		return code
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(e.stderr, "qualcert codes: unexpected argument %q\nRun 'qualcert help codes' for its flags.\n", fl.Arg(0))
		return exitUsage
	}
	entries := catalogueEntries()
	if *asJSON {
		return printJSON(e, entries)
	}
	for _, c := range entries {
		fmt.Fprintf(e.stdout, "%-30s %-6s %-18s %s\n", c.Code, c.Level, c.Requirement, c.Summary)
		fmt.Fprintf(e.stdout, "%-30s hint: %s\n", "", c.Hint)
	}
	return exitOK
}

const featuresUsage = `Usage: qualcert features export DIR

Writes the built-in Gherkin suites into DIR, to read them or start from them:
  DIR/certification/*.feature  the certification suite, run against your page
  DIR/reference/*.feature      Qualifio's documented behaviour, run against
                               the embedded demo publisher's variants
Existing files are never overwritten.

To add a scenario of your own, write it in a folder of its own and run
  qualcert run --profile site.yaml --features my-features/
which runs it after the built-in suite (--features-only runs it alone).
qualcert steps lists the sentences your scenarios can use.
`

func cmdFeatures(ctx context.Context, e env, args []string) int {
	printUsage := func(w io.Writer) { fmt.Fprint(w, featuresUsage) }
	args, code, done := subcommand(e, args, "features", "export", printUsage)
	if done {
		return code
	}
	fl := newFlags("features export")
	if code, done := parseFlags(e, fl, "features export", args, printUsage); done {
		return code
	}
	if fl.NArg() != 1 {
		fmt.Fprintf(e.stderr, "qualcert features export: give one folder (got %d arguments)\nRun 'qualcert help features' for its usage.\n", fl.NArg())
		return exitUsage
	}
	written, err := features.Export(fl.Arg(0))
	if err != nil {
		fmt.Fprintf(e.stderr, "qualcert features export: %v\n", err)
		return exitUsage
	}
	for _, p := range written {
		fmt.Fprintf(e.stdout, "wrote %s\n", p)
	}
	return exitOK
}

const schemaUsage = `Usage: qualcert schema profile|report

Prints a JSON Schema (draft 2020-12):
  profile   the profile (YAML or JSON) qualcert run --profile reads; point
            your editor at it for completion, e.g. in VS Code with the YAML
            extension, first line of the profile:
            # yaml-language-server: $schema=./profile.schema.json
  report    report.json (schema id qualcert.report/v1)

Example:
  qualcert schema profile > profile.schema.json
`

func cmdSchema(ctx context.Context, e env, args []string) int {
	fl := newFlags("schema")
	printUsage := func(w io.Writer) { fmt.Fprint(w, schemaUsage) }
	if code, done := parseFlags(e, fl, "schema", args, printUsage); done {
		return code
	}
	schemas := map[string][]byte{"profile": profile.Schema, "report": reports.Schema}
	if fl.NArg() != 1 || schemas[fl.Arg(0)] == nil {
		got := strings.Join(fl.Args(), " ")
		fmt.Fprintf(e.stderr, "qualcert schema: want profile or report, not %q%s\nRun 'qualcert help schema' for its usage.\n", got, didYouMean(got, []string{"profile", "report"}))
		return exitUsage
	}
	if _, err := e.stdout.Write(schemas[fl.Arg(0)]); err != nil {
		return exitFailed
	}
	return exitOK
}

func printJSON(e env, v any) int {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(e.stderr, "qualcert: %v\n", err)
		return exitFailed
	}
	return exitOK
}
