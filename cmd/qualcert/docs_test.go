package main

// The documentation in docs/ ships with the repository. The parts that list
// what the code holds (commands and flags, exit codes, finding codes, steps)
// are generated from the code by this test; the parts written by hand (the
// profile and report references) are checked against the schemas. After a
// change to a command's help, a code or a step, regenerate with
//
//	go test ./cmd/qualcert -run TestDocs -update

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/reports"
	"github.com/qualcert/qualcert/steps"
)

var update = flag.Bool("update", false, "rewrite the generated files of docs/")

const docsDir = "../../docs"

const generatedNote = "<!-- Generated from the code by `go test ./cmd/qualcert -run TestDocs -update`: do not edit by hand. -->\n\n"

func TestDocsGenerated(t *testing.T) {
	for name, gen := range map[string]func(t *testing.T) string{
		"cli.md": docCLI, "exit-codes.md": docExitCodes, "codes.md": docCodes, "steps.md": docSteps,
	} {
		want := generatedNote + gen(t)
		path := filepath.Join(docsDir, name)
		if *update {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("docs/%s is not what the code says: run go test ./cmd/qualcert -run TestDocs -update", name)
		}
	}
}

func helpOf(t *testing.T, name string) string {
	code, out, stderr := run(t, "", "help", name)
	if code != exitOK {
		t.Fatalf("qualcert help %s: exit %d, %s", name, code, stderr)
	}
	return out
}

func docCLI(t *testing.T) string {
	var b strings.Builder
	b.WriteString("# Commands\n\nEvery command prints this help with `qualcert help CMD` or `qualcert CMD --help`.\n\n")
	_, top, _ := run(t, "", "--help")
	fmt.Fprintf(&b, "```\n%s```\n", top)
	for _, c := range commands {
		fmt.Fprintf(&b, "\n## qualcert %s\n\n```\n%s```\n", c.name, helpOf(t, c.name))
	}
	return b.String()
}

var exitParagraph = regexp.MustCompile(`(?s)\n(Exit (?:codes|status)[^\n]*(?:\n[^\n]+)*)`)

func docExitCodes(t *testing.T) string {
	var b strings.Builder
	b.WriteString("# Exit codes\n\n")
	b.WriteString("| code | meaning |\n|---|---|\n")
	b.WriteString(fmt.Sprintf("| %d | passed: the run or the token is valid (warnings allowed) |\n", exitOK))
	b.WriteString(fmt.Sprintf("| %d | failed: a must-level finding (the run failed, the token is invalid) |\n", exitFailed))
	b.WriteString(fmt.Sprintf("| %d | usage error: a bad flag or argument, an invalid profile (with its key and line), a missing value_env variable, a malformed --tags expression |\n", exitUsage))
	b.WriteString(fmt.Sprintf("| %d | broken: no verdict could be reached (the browser did not start, the page was unreachable, the run timed out, the run was interrupted by Ctrl-C or SIGTERM) |\n", exitBroken))
	b.WriteString(fmt.Sprintf("| %d | verify only: decoded, NOT VERIFIED (no key source was given, and no must finding in what could be judged without a key) |\n", exitNotVerified))
	b.WriteString("\nEach command states its own, in its help:\n")
	for _, c := range commands {
		m := exitParagraph.FindStringSubmatch(helpOf(t, c.name))
		if m == nil {
			continue
		}
		fmt.Fprintf(&b, "\n## qualcert %s\n\n```\n%s\n```\n", c.name, strings.TrimSpace(m[1]))
	}
	return b.String()
}

func docCodes(t *testing.T) string {
	var b strings.Builder
	b.WriteString("# Finding codes\n\n")
	b.WriteString("Every check is a finding with a stable code, a level, the requirement it enforces and a hint on what to change. " +
		"**must** fails the run, **should** is a warning, **info** informs. Codes are added, never renamed. " +
		"`qualcert codes` prints this list; `qualcert codes --json` prints it as JSON.\n")
	byReq := map[string][]codeEntry{}
	for _, c := range catalogueEntries() {
		byReq[c.Requirement] = append(byReq[c.Requirement], c)
	}
	seen := map[string]bool{}
	for _, r := range finding.Requirements() {
		seen[r.ID] = true
		fmt.Fprintf(&b, "\n## %s: %s\n\n%s (source: %s)\n\n", r.ID, r.Title, r.Text, r.Source)
		writeCodeTable(&b, byReq[r.ID])
	}
	var rest []string
	for id := range byReq {
		if !seen[id] {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	for _, id := range rest {
		fmt.Fprintf(&b, "\n## %s\n\n", id)
		writeCodeTable(&b, byReq[id])
	}
	return b.String()
}

func writeCodeTable(b *strings.Builder, cs []codeEntry) {
	if len(cs) == 0 {
		b.WriteString("No code of its own.\n")
		return
	}
	b.WriteString("| code | level | means | hint |\n|---|---|---|---|\n")
	for _, c := range cs {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", c.Code, c.Level, cell(c.Summary), cell(c.Hint))
	}
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}

func docSteps(t *testing.T) string {
	var b strings.Builder
	b.WriteString("# Steps\n\nThe sentences your feature files can use (after any keyword: Given, When, Then, And, But). " +
		"`qualcert steps` prints this list; `qualcert steps --json` prints it as JSON. " +
		"A sentence that matches no step fails its scenario and names the nearest ones. " +
		"See [extending.md](extending.md) to add scenarios and steps of your own.\n")
	kind := ""
	for _, s := range steps.Steps() {
		if s.Kind != kind {
			kind = s.Kind
			fmt.Fprintf(&b, "\n## %s\n", kind)
		}
		fmt.Fprintf(&b, "\n### %s %s\n\n%s\n", kind, s.Example, s.Asserts)
		if regexp.MustCompile(s.Pattern).NumSubexp() > 0 {
			fmt.Fprintf(&b, "\nPattern: `%s`\n", s.Pattern)
		}
		if len(s.Codes) > 0 {
			var codes []string
			for _, c := range s.Codes {
				codes = append(codes, "`"+string(c)+"`")
			}
			fmt.Fprintf(&b, "\nCodes: %s ([codes.md](codes.md))\n", strings.Join(codes, ", "))
		}
	}
	return b.String()
}

// docs/profile.md names every key of the profile schema, and its YAML
// examples are valid profiles.
func TestDocsProfileReference(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(docsDir, "profile.md"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(profile.Schema, &schema); err != nil {
		t.Fatal(err)
	}
	for _, key := range schemaKeys(schema, "") {
		if !bytes.Contains(doc, []byte("`"+key+"`")) {
			t.Errorf("docs/profile.md does not document `%s`", key)
		}
	}
	sch := compileSchema(t, profile.Schema)
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 2 {
		t.Fatalf("docs/profile.md has %d yaml examples", len(blocks))
	}
	for i, m := range blocks {
		var v any
		if err := yaml.Unmarshal(m[1], &v); err != nil {
			t.Errorf("example %d: %v", i+1, err)
			continue
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("example %d does not validate: %v", i+1, err)
		}
		if _, err := profile.Parse(m[1], ""); err != nil && !strings.Contains(err.Error(), "cannot read") {
			t.Errorf("example %d does not load: %v", i+1, err)
		}
	}
}

// docs/report.md names every field of the report schema.
func TestDocsReportReference(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(docsDir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(reports.Schema, &schema); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	var walk func(n any)
	walk = func(n any) {
		m, ok := n.(map[string]any)
		if !ok {
			return
		}
		if props, ok := m["properties"].(map[string]any); ok {
			for k, v := range props {
				names[k] = true
				walk(v)
			}
		}
		for _, k := range []string{"items", "additionalProperties"} {
			walk(m[k])
		}
		if defs, ok := m["$defs"].(map[string]any); ok {
			for _, d := range defs {
				walk(d)
			}
		}
	}
	walk(schema)
	if len(names) < 40 {
		t.Fatalf("only %d field names read from the report schema", len(names))
	}
	for n := range names {
		if !bytes.Contains(doc, []byte("`"+n+"`")) {
			t.Errorf("docs/report.md does not document the field `%s`", n)
		}
	}
}

// The README and docs/ link only to files a clone holds.
func TestDocsLinksResolve(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(docsDir, "*.md"))
	files = append(files, "../../README.md")
	link := regexp.MustCompile(`\]\(([^)#\s]+)(#[^)]*)?\)`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("shared folder")) || bytes.Contains(b, []byte("CONTRACT")) {
			t.Errorf("%s points to the contract, which a clone does not hold", f)
		}
		for _, m := range link.FindAllSubmatch(b, -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", f, target)
			}
		}
	}
}

// schemaKeys lists the dotted key paths of a JSON Schema's properties
// (page.login.steps.fill.value_env).
func schemaKeys(n map[string]any, path string) []string {
	var out []string
	props, _ := n["properties"].(map[string]any)
	for k, v := range props {
		p := k
		if path != "" {
			p = path + "." + k
		}
		out = append(out, p)
		if m, ok := v.(map[string]any); ok {
			if items, ok := m["items"].(map[string]any); ok {
				m = items
			}
			out = append(out, schemaKeys(m, p)...)
		}
	}
	sort.Strings(out)
	return out
}

func compileSchema(t *testing.T, b []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}
