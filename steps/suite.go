package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/cucumber/godog"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
)

// Suite puts qualcert's steps in a godog suite of your own, next to your
// own step definitions, to run with `go test` or with the godog CLI. Where
// Run runs qualcert's suite and returns qualcert's report, a Suite lends
// the steps to your godog run and leaves the reporting to godog (--format
// pretty, cucumber, junit).
//
// In a _test.go file of your package (the godog CLI looks for these two
// functions by name):
//
//	var suite = steps.NewSuite(steps.Config{Profile: p})
//
//	func InitializeTestSuite(ts *godog.TestSuiteContext) { suite.InitializeTestSuite(ts) }
//
//	func InitializeScenario(sc *godog.ScenarioContext) {
//		suite.InitializeScenario(sc)
//		sc.Step(`^every campaign gets its token (\d+) ms ahead$`, yourOwnStep)
//	}
//
// Your steps read the scenario's page load with PageLoad(ctx). The browser
// starts at the first page load and stops at Close (InitializeTestSuite
// registers Close after the suite). examples/custom-suite in the repository
// is a complete module that does this.
type Suite struct {
	run    *suiteRun
	cancel context.CancelFunc

	once    sync.Once
	h       *harness.Harness
	err     error
	closeMu sync.Mutex
	closed  bool
}

// NewSuite prepares the steps for cfg's profile (Config.Profile; Features,
// Paths, Tags and TestingT are the business of your godog options). No
// browser starts until a scenario opens a page; a zero Browser uses
// /usr/bin/chromium when present, else a Chromium found on PATH.
func NewSuite(cfg Config) *Suite {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Browser.BrowserBin == "" && cfg.Browser.BrowserURL == "" {
		if _, err := os.Stat("/usr/bin/chromium"); err == nil {
			cfg.Browser.BrowserBin = "/usr/bin/chromium"
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Suite{cancel: cancel}
	s.run = &suiteRun{cfg: cfg, metas: map[string]*scenarioMeta{}, states: map[string]*scenario{}}
	s.run.observer = newObserver(ctx, s.load, cfg.Concurrency, cfg.ReportDir)
	return s
}

// load starts the browser on the first page load.
func (s *Suite) load(ctx context.Context, sc harness.Scenario) (*harness.Result, error) {
	s.once.Do(func() {
		s.closeMu.Lock()
		defer s.closeMu.Unlock()
		if s.closed {
			s.err = errors.New("the suite is closed")
			return
		}
		s.h, s.err = harness.Start(ctx, s.run.cfg.Browser)
	})
	if s.err != nil {
		return nil, fmt.Errorf("starting the browser: %w: %w", harness.ErrBroken, s.err)
	}
	s.closeMu.Lock()
	h := s.h
	s.closeMu.Unlock()
	if h == nil {
		return nil, fmt.Errorf("the suite is closed: %w", harness.ErrBroken)
	}
	return h.Run(ctx, sc)
}

// InitializeScenario registers qualcert's steps and the hooks that keep
// each scenario's state in its context.
func (s *Suite) InitializeScenario(sc *godog.ScenarioContext) { s.run.initScenario(sc) }

// InitializeTestSuite closes the browser after the suite.
func (s *Suite) InitializeTestSuite(ts *godog.TestSuiteContext) {
	ts.AfterSuite(func() { _ = s.Close() })
}

// Close stops the browser, if one started, and waits for it to exit.
func (s *Suite) Close() error {
	s.cancel()
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	s.closed = true
	if s.h != nil {
		h := s.h
		s.h = nil
		return h.Close()
	}
	return nil
}

// PageLoad returns what the harness observed for the scenario of ctx: the
// campaigns (their tokens, margins, outcomes), the timeline and the
// findings. It fails when the scenario opened no page ("When the
// participant opens the page" comes first).
func PageLoad(ctx context.Context) (*harness.Result, error) {
	s, err := current(ctx)
	if err != nil {
		return nil, err
	}
	return s.result()
}

// Step is one step sentence qualcert defines, as `qualcert steps` lists it.
type Step struct {
	Kind    string         `json:"kind"`    // Given, When or Then
	Pattern string         `json:"pattern"` // the regular expression a step's text matches
	Example string         `json:"example"` // a sentence it matches
	Asserts string         `json:"asserts"` // what it does or asserts
	Codes   []finding.Code `json:"codes"`   // the finding codes it asserts on
}

// Steps lists qualcert's step definitions in suite order.
func Steps() []Step {
	var out []Step
	for _, d := range definitions() {
		out = append(out, Step{Kind: d.kind, Pattern: d.pattern, Example: d.sentence(), Asserts: d.asserts, Codes: nonNil(d.codes)})
	}
	return out
}

var unescape = strings.NewReplacer(`\(`, "(", `\)`, ")", `\.`, ".")

// sentence is the definition's example, or its pattern as plain text.
func (d stepDef) sentence() string {
	if d.example != "" {
		return d.example
	}
	return unescape.Replace(strings.TrimSuffix(strings.TrimPrefix(d.pattern, "^"), "$"))
}

// Suggest returns up to n of qualcert's step sentences nearest to text,
// for an undefined step.
func Suggest(text string, n int) []string {
	type scored struct {
		s string
		d float64
	}
	var all []scored
	words := contentWords(text)
	for _, d := range definitions() {
		ex := d.sentence()
		// shared words count more than letters: "the token is expired"
		// should find "the token is within its lifetime".
		exWords := contentWords(ex)
		common := 0
		for _, w := range words {
			for _, x := range exWords {
				if w == x || (len(w) > 4 && strings.HasPrefix(x, w[:len(w)-2])) {
					common++
					break
				}
			}
		}
		dist := float64(EditDistance(strings.ToLower(text), strings.ToLower(ex))) / float64(max(len(text), len(ex), 1))
		overlap := float64(common) / float64(max(len(words), 1))
		all = append(all, scored{ex, dist - 2*overlap})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].d < all[j].d })
	var out []string
	for i := 0; i < len(all) && i < n; i++ {
		out = append(out, all[i].s)
	}
	return out
}

// contentWords are the lower-case words of s that carry meaning.
func contentWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return r == ' ' || r == '"' || r == '(' || r == ')' || r == '\'' || r == '-'
	}) {
		switch w {
		case "the", "a", "an", "is", "are", "of", "to", "its", "and", "it", "s":
			continue
		}
		out = append(out, w)
	}
	return out
}

// undefinedStep is the error of a step no definition matches.
func undefinedStep(text string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "undefined step %q: no qualcert step matches it. Nearest:", text)
	for _, s := range Suggest(text, 3) {
		b.WriteString("\n  " + s)
	}
	b.WriteString("\n(qualcert steps lists every step)")
	return errors.New(b.String())
}

// EditDistance is the Levenshtein distance between a and b, in runes: the
// measure behind the CLI's "did you mean" suggestions.
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
