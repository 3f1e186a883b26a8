package steps

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// godogVersion is the godog module of go.mod: its CLI builds the example's
// test package against the same godog.
const godogVersion = "v0.15.1" // TestGodogVersionIsGoMods keeps it in step

// The example module examples/custom-suite (its own go.mod, qualcert by a
// replace) is what docs/extending.md walks a publisher through: qualcert's
// steps next to one step of its own, in a godog suite of its own. It runs
// here as a publisher would run it: with go test, filtered by a Cucumber
// tag expression, and with the godog CLI, filtered in godog's syntax.
func TestExampleCustomSuiteModule(t *testing.T) {
	browserForTests(t)
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command")
	}
	dir, err := filepath.Abs(filepath.Join("..", "examples", "custom-suite"))
	if err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "QUALCERT_PROFILE=", "GOFLAGS=-mod=readonly")

	t.Run("go test", func(t *testing.T) {
		cmd := exec.Command("go", "test", "-count=1", "-v", "./...", "-godog.tags=not @throttled")
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go test in %s: %v (after a change of qualcert's dependencies, run go mod tidy there)\n%s", dir, err, out)
		}
		for _, want := range []string{
			"--- PASS: TestFeatures/Our_tokens_are_signed_with_our_group's_algorithm,_in_time",
			"our tokens are signed with ES256", // the publisher's own step ran
			"1 scenarios (", "5 steps (",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("go test output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(string(out), "slow phone") {
			t.Errorf("not @throttled ran the throttled scenario:\n%s", out)
		}
	})

	t.Run("godog CLI", func(t *testing.T) {
		godog := filepath.Join("..", "bin", "godog") // make deps builds it
		if _, err := os.Stat(godog); err != nil {
			godog = filepath.Join(t.TempDir(), "godog")
			install := exec.Command("go", "install", "github.com/cucumber/godog/cmd/godog@"+godogVersion)
			install.Env = append(os.Environ(), "GOBIN="+filepath.Dir(godog))
			if out, err := install.CombinedOutput(); err != nil {
				t.Fatalf("building the godog CLI: %v\n%s", err, out)
			}
		}
		godog, _ = filepath.Abs(godog)
		report := filepath.Join(t.TempDir(), "cucumber.json")
		cmd := exec.Command(godog, "run", "--no-colors", "--tags=~@throttled", "--format=cucumber:"+report, "features/")
		cmd.Dir, cmd.Env = dir, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("godog run: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		var feats []struct {
			Elements []struct {
				Name  string
				Steps []struct {
					Name   string
					Result struct{ Status string }
				}
			}
		}
		b, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &feats); err != nil || len(feats) != 1 {
			t.Fatalf("godog's cucumber report: %v\n%s", err, b)
		}
		els := feats[0].Elements
		if len(els) != 1 || len(els[0].Steps) != 5 {
			t.Fatalf("godog ran %+v, want the one scenario not tagged @throttled", els)
		}
		for _, st := range els[0].Steps {
			if st.Result.Status != "passed" {
				t.Errorf("step %q: %s", st.Name, st.Result.Status)
			}
		}
		if last := els[0].Steps[4].Name; last != "our tokens are signed with ES256" {
			t.Errorf("last step %q, want the publisher's own", last)
		}
	})
}

func TestGodogVersionIsGoMods(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "github.com/cucumber/godog "+godogVersion+"\n") {
		t.Errorf("go.mod does not require godog %s; update godogVersion", godogVersion)
	}
}
