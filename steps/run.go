// Package steps binds qualcert's Gherkin suites (package features, or a
// publisher's own feature files) to the browser harness, and turns a godog
// run into a reports.Report.
//
// One certification run is one call:
//
//	r, err := steps.Run(ctx, steps.Config{Profile: p, Browser: harness.Options{BrowserBin: "/usr/bin/chromium"}})
//	r.Finalize() // after an optional allow-list: reports.(*AllowList).Apply(r)
//
// Run starts one browser for the whole run and lets godog start every
// scenario at once; the scenarios then queue for the browser, which loads at
// most Config.Concurrency pages at a time. A scenario's state (its profile,
// its conditions, the page load it observed, the findings its steps
// asserted on) travels in its context.Context; nothing is kept in package
// variables, so two runs can share a process (go test does).
//
// # One page load, several scenarios
//
// Several scenarios often ask different questions about the very same page
// load: the tag, the timing and the token of a logged-in visit. Run opens a
// page once per distinct set of conditions (profile, logged out or not,
// throttle, injected fault) and shares the result (a single flight: the
// scenarios that arrive while it loads wait for it). The report says so in
// each scenario's timeline: a "harness" event named "observation" with the
// conditions, whether the load was shared and which scenario started it.
//
// # Findings and scenarios
//
// Each Then step asserts on the findings of a few codes (CONTRACT §4) and
// on the timeline. It claims those findings for its scenario: a must-level
// one fails the step, with the code and the hint in the error; a
// should-level one is a warning, shown in the report, and the step passes
// (a run fails only on a must). A scenario's status is decided once, when
// it ends, from its steps: its progress line and every report say the same.
// Findings of a page load that no step claimed belong to the page load
// (Finding.PageLoad, a test case of their own in junit.xml and
// cucumber.json), never to a scenario whose steps did not assert them.
//
// Causes and allowances are settled when a page load is observed, before
// any step sees it (story.go): campaign.blocked names the finding it
// follows from, the expected-deviations file (Config.Allow) marks what it
// allows, and a step that could not check a token names the finding that
// blocked it.
//
// # Partial runs and go test
//
// A run filtered by tags, of feature files other than the embedded suite, or
// with scenarios that did not run is partial (Report.Partial): it is not a
// certification, whatever its verdict. With Config.TestingT each scenario is
// a subtest (go test -run selects scenarios by name): it fails when its
// scenario fails, is skipped with its reason when the scenario is skipped,
// and the parent test fails when the verdict is not passed.
//
// A scenario that does not apply to the profile (the access-token flow for
// a publisher whose tokens carry the data inline, the several-campaigns
// flow with one campaign, the JWE checks for a JWS publisher) is skipped
// with its reason, which the report carries as skip_reason.
package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cucumber/godog"
	messages "github.com/cucumber/messages/go/v21"

	"github.com/qualcert/qualcert/features"
	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/reports"
)

// Config is one certification run.
type Config struct {
	// Profile is the publisher page that the certification steps ("Given
	// the publisher page of the profile") open.
	Profile *profile.Profile
	// Demo is the demo publisher that the reference steps ("Given the demo
	// variant …") open; nil outside the reference suite.
	Demo *demo.Server

	// Features holds the feature files (nil: the embedded features.FS) and
	// Paths the files or folders to run inside it (nil: the certification
	// suite of features.FS, or every file of a given Features).
	Features fs.FS
	Paths    []string
	Tags     string // tag expression (see Tags), e.g. "@jws and not @throttled"

	Concurrency int // page loads at a time in the browser; 0 = 2
	// Burst is how many page loads may run beyond Concurrency, each started
	// only while the machine's CPUs are idle (a page load mostly waits:
	// round trips, the windows after the campaigns' outcomes); on a busy
	// machine none starts. 0 = none. Not with Slots (a fleet's).
	Burst   int
	Browser harness.Options
	// At judges the time claims of the tokens the page hands over as of
	// this instant instead of now (zero: now); the report says so
	// (Report.JudgedAsOf).
	At time.Time

	// Allow is the expected-deviations file: applied to each page load's
	// findings as it is observed, so that statuses are final when printed.
	// The caller still calls Allow.Apply on the report, for stale entries.
	Allow *reports.AllowList

	ReportDir   string    // screenshots are written under ReportDir/attachments; "" = not written
	Progress    io.Writer // what starts, then one line per finished scenario; nil = quiet
	ToolVersion string
	// TestingT runs each scenario as a subtest (go test -run works on
	// scenario names).
	TestingT *testing.T

	// Shard, when set, runs only the page loads of its slice (see Shard);
	// the other scenarios are skipped and name the shard that runs them.
	Shard *Shard
	// Slots, when set, are the browser slots shared with other runs of the
	// same process (the sites of a fleet): a page load takes one for its
	// duration, so the runs together load at most cap(Slots) pages at a time.
	Slots chan struct{}
	// Shared, when set, gives the run a browser shared with other runs of
	// the same process (the sites of a fleet, see harness.ShareKey) instead
	// of one of its own: Run calls it once, when it needs the browser, and
	// leaves what it returns open; an error is a browser that could not
	// start (env.browser), as with a browser of the run's own. The
	// browser must be confined for Profile (harness.ConfineAll).
	Shared func(context.Context) (*harness.Harness, error)
}

// scenarioMeta is what the feature files say about a scenario, read before
// the run so that the report lists scenarios in file order whatever order
// they finish in.
type scenarioMeta struct {
	pickleID    string
	id          string // uri:line, unique (an outline row has its own line)
	feature     string
	name        string
	tags        []string
	featureTags []string
	selected    bool              // go test -run selected it (always true without TestingT)
	keywords    map[string]string // step AST id → keyword ("Given ", "And ")
}

// suiteRun is one Run: shared by its scenarios, guarded where they write.
type suiteRun struct {
	cfg      Config
	observer *observer
	metas    map[string]*scenarioMeta // by pickle id
	order    []*scenarioMeta

	mu     sync.Mutex
	states map[string]*scenario // by pickle id

	// godog's own formatter ("progress" to io.Discard: the report is
	// qualcert's); tests read godog's cucumber output through them.
	godogFormat string
	godogOutput io.Writer

	progressMu sync.Mutex
	printed    map[string]bool // page load + finding already printed in full
	loads      int             // page loads started, for the progress lines

	partial []string // why the run is partial
	done    chan struct{}

	godogTags string // Config.Tags in the form godog reads
}

// Run runs the suites of cfg and returns the report, not yet finalized (the
// caller may apply an allow-list, then calls Finalize). An error means the
// run could not start (unreadable feature files, no scenario matching the
// tags); a browser that cannot start or a page that cannot be reached gives
// a report whose scenarios are broken.
func Run(ctx context.Context, cfg Config) (*reports.Report, error) {
	started := time.Now()
	// The browser starts while the feature files are read: its start is
	// most of a run's fixed cost.
	type launched struct {
		h   *harness.Harness
		err error
	}
	launch := make(chan launched, 1)
	go func() {
		var l launched
		if cfg.Shared != nil { // the fleet's: started once, closed by the fleet
			l.h, l.err = cfg.Shared(ctx)
		} else {
			l.h, l.err = harness.Start(ctx, harness.ConfineTo(cfg.Browser, cfg.Profile))
		}
		launch <- l
	}()
	run, report, err := prepare(cfg, started)
	if err != nil {
		if l := <-launch; l.h != nil && cfg.Shared == nil {
			_ = l.h.Close()
		}
		return nil, err
	}
	if cfg.Shared != nil {
		run.say("sharing the fleet's browser (%s)…", browserName(run.cfg.Browser))
	} else {
		run.say("starting the browser (%s)…", browserName(run.cfg.Browser))
	}
	l := <-launch
	h, err := l.h, l.err
	if err != nil {
		run.brokenReport(report, finding.New(finding.EnvBrowser, "starting the browser: %v", err))
		report.DurationMs = time.Since(started).Milliseconds()
		return report, nil
	}
	if cfg.Shared == nil {
		defer h.Close()
	}
	burst := ""
	if cfg.Burst > 0 && cfg.Slots == nil {
		burst = fmt.Sprintf(" (up to %d while the CPUs are idle)", run.cfg.Concurrency+cfg.Burst)
	}
	run.say("browser ready in %.1fs; %d scenario%s, %d page load%s at a time%s",
		time.Since(started).Seconds(), len(run.order), plural(len(run.order)), run.cfg.Concurrency, plural(run.cfg.Concurrency), burst)
	run.execute(ctx, report, h.Run)
	if cfg.Shared == nil {
		run.say("%s done in %.1fs; closing the browser…", reports.Plural(len(run.order), "scenario"), time.Since(started).Seconds())
	} else {
		run.say("%s done in %.1fs", reports.Plural(len(run.order), "scenario"), time.Since(started).Seconds())
	}
	report.DurationMs = time.Since(started).Milliseconds()
	return report, nil
}

// runsBuiltinSuite reports whether cfg runs every file of the built-in
// certification suite, unchanged (a publisher's own files may run beside
// it: --features adds them).
func runsBuiltinSuite(cfg Config) bool {
	if !slices.Contains(cfg.Paths, features.Certification) && !slices.Contains(cfg.Paths, ".") {
		return false
	}
	ok := true
	err := fs.WalkDir(features.FS, features.Certification, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, err := fs.ReadFile(features.FS, p)
		if err != nil {
			return err
		}
		got, err := fs.ReadFile(cfg.Features, p)
		if err != nil || string(got) != string(want) {
			ok = false
		}
		return nil
	})
	return err == nil && ok
}

// notRun is the skip reason of a scenario that never started.
const notRun = "not run (filtered out by go test -run)"

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func browserName(o harness.Options) string {
	switch {
	case o.BrowserURL != "":
		return "connecting to " + o.BrowserURL
	case o.BrowserBin != "":
		return o.BrowserBin
	}
	return "Chromium from PATH"
}

// say prints a line of what the run is doing, at once.
func (run *suiteRun) say(format string, args ...any) {
	w := run.cfg.Progress
	if w == nil {
		return
	}
	line := "  " + fmt.Sprintf(format, args...)
	if !run.cfg.Browser.Reveal {
		line = finding.RedactText(line)
	}
	run.progressMu.Lock()
	fmt.Fprintln(w, line)
	run.progressMu.Unlock()
}

// pageLoader observes one page load: (*harness.Harness).Run, or a fake in
// this package's tests.
type pageLoader func(context.Context, harness.Scenario) (*harness.Result, error)

// prepare fills cfg's defaults, reads the feature files and starts the
// report.
func prepare(cfg Config, started time.Time) (*suiteRun, *reports.Report, error) {
	if cfg.Features == nil {
		cfg.Features = features.FS
		if cfg.Paths == nil {
			cfg.Paths = []string{features.Certification}
		}
	}
	if cfg.Paths == nil {
		cfg.Paths = []string{"."}
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.ToolVersion == "" {
		cfg.ToolVersion = "dev"
	}
	run := &suiteRun{cfg: cfg, metas: map[string]*scenarioMeta{}, states: map[string]*scenario{}, godogFormat: "progress", godogOutput: io.Discard, printed: map[string]bool{}}
	if err := run.readFeatures(); err != nil {
		return nil, nil, err
	}
	if strings.TrimSpace(cfg.Tags) != "" {
		run.partial = append(run.partial, "filtered by --tags "+cfg.Tags)
	}
	if cfg.Shard != nil && (cfg.Shard.Count < 1 || cfg.Shard.Index < 1 || cfg.Shard.Index > cfg.Shard.Count) {
		return nil, nil, fmt.Errorf("shard %s: want i/n with 1 ≤ i ≤ n", cfg.Shard)
	}
	if cfg.Profile != nil && !runsBuiltinSuite(cfg) {
		run.partial = append(run.partial, "not the whole built-in certification suite (feature files of its own: --features-only, or part of the suite)")
	}
	report := &reports.Report{
		Schema:      reports.SchemaID,
		Tool:        reports.Tool{Name: "qualcert", Version: cfg.ToolVersion},
		Profile:     profileRef(cfg),
		StartedAt:   started.UTC(),
		Assumptions: assumptionsOf(cfg),
		Revealed:    cfg.Browser.Reveal,
	}
	if !cfg.At.IsZero() {
		at := cfg.At.UTC()
		report.JudgedAsOf = &at
	}
	return run, report, nil
}

// execute runs godog over the scenarios, loading pages with load.
func (run *suiteRun) execute(ctx context.Context, report *reports.Report, load pageLoader) {
	cfg := run.cfg
	run.observer = newObserver(ctx, load, cfg.Concurrency, cfg.ReportDir)
	run.observer.harReveal, run.observer.harTool = cfg.Browser.Reveal, cfg.ToolVersion
	if cfg.Slots != nil {
		run.observer.slots = cfg.Slots
	} else if cfg.Burst > 0 {
		run.observer.burst, run.observer.idle = cfg.Burst, newProcStat()
	}
	run.observer.prepare = func(res *harness.Result) {
		assignCauses(res)
		run.applyAllow(res)
	}
	run.observer.started = func(obs *observation, sc harness.Scenario) {
		run.progressMu.Lock()
		run.loads++
		n := run.loads
		run.progressMu.Unlock()
		how := ""
		if obs.burst {
			how = " (beyond the slots: the CPUs are idle)"
		}
		run.say("page load %d: opening %s [%s]%s", n, sc.Profile.Page.URL, obs.key, how)
	}
	if cfg.TestingT != nil {
		run.startSubtests(report)
	} else {
		for _, m := range run.order {
			m.selected = true
		}
	}
	defer close(run.doneCh())
	// The first page load starts once every scenario said which it needs
	// (the longest first: schedule.go).
	selected := 0
	for _, m := range run.order {
		if m.selected {
			selected++
		}
	}
	run.observer.q.gather(selected)

	// Every scenario starts at once and queues for the browser (the
	// observer's slots bound the page loads); godog's own concurrency only
	// bounds goroutines that mostly wait.
	godogConcurrency := min(max(len(run.order), 1), 64)
	suite := godog.TestSuite{
		Name:                "qualcert",
		ScenarioInitializer: run.initScenario,
		Options: &godog.Options{
			Format:         run.godogFormat,
			Output:         run.godogOutput,
			NoColors:       true,
			FS:             cfg.Features,
			Paths:          cfg.Paths,
			Tags:           run.godogTags,
			Concurrency:    godogConcurrency,
			Strict:         true,
			DefaultContext: ctx,
		},
	}
	suite.Run()
	run.fillReport(ctx, report)
}

// assumptionsOf lists what the run assumes about the real Qualifio side
// (report.json's assumptions).
func assumptionsOf(cfg Config) []reports.Assumption {
	var out []reports.Assumption
	for _, a := range harness.Assumptions(cfg.Profile) {
		out = append(out, reports.Assumption{Name: a.Name, Value: a.Value, Text: a.Text, Verdicts: a.Verdicts})
	}
	return out
}

func profileRef(cfg Config) reports.ProfileRef {
	switch {
	case cfg.Profile != nil:
		return reports.ProfileRef{Name: cfg.Profile.Name, PageURL: cfg.Profile.Page.URL}
	case cfg.Demo != nil:
		return reports.ProfileRef{Name: "Demo Media (reference suite)", PageURL: cfg.Demo.URL}
	}
	return reports.ProfileRef{}
}

// readFeatures parses the feature files once, for the report's order and
// names and to fail early on a file godog cannot read.
func (run *suiteRun) readFeatures() error {
	tags, err := ParseTags(run.cfg.Tags)
	if err != nil {
		return err
	}
	run.godogTags = tags.Godog()
	ts := godog.TestSuite{Options: &godog.Options{FS: run.cfg.Features, Paths: run.cfg.Paths, Tags: run.godogTags}}
	feats, err := ts.RetrieveFeatures()
	if err != nil {
		return fmt.Errorf("reading the feature files: %w", err)
	}
	for _, ft := range feats {
		doc := ft.GherkinDocument
		if doc == nil || doc.Feature == nil {
			continue
		}
		keywords := map[string]string{}
		lines := map[string]int64{}
		for _, child := range doc.Feature.Children {
			collectSteps(child.Background, child.Scenario, keywords, lines)
			if child.Rule != nil {
				for _, rc := range child.Rule.Children {
					collectSteps(rc.Background, rc.Scenario, keywords, lines)
				}
			}
		}
		for _, p := range ft.Pickles {
			line := int64(0)
			for _, id := range p.AstNodeIds {
				if l, ok := lines[id]; ok {
					line = l // the last one: the example row of an outline
				}
			}
			m := &scenarioMeta{
				pickleID: p.Id,
				id:       p.Uri + ":" + strconv.FormatInt(line, 10),
				feature:  doc.Feature.Name,
				name:     p.Name,
				keywords: keywords,
			}
			for _, t := range doc.Feature.Tags {
				m.featureTags = append(m.featureTags, t.Name)
			}
			for _, t := range p.Tags {
				m.tags = append(m.tags, t.Name)
			}
			run.metas[p.Id] = m
			run.order = append(run.order, m)
		}
	}
	if len(run.order) == 0 {
		if run.cfg.Tags != "" {
			return fmt.Errorf("no scenario matches the tags %q", run.cfg.Tags)
		}
		return fmt.Errorf("no scenario in the feature files (%s)", strings.Join(run.cfg.Paths, ", "))
	}
	return nil
}

// initScenario registers the steps and the hooks that keep each scenario's
// state in its context.
func (run *suiteRun) initScenario(sc *godog.ScenarioContext) {
	register(sc)
	sc.Before(func(ctx context.Context, p *godog.Scenario) (context.Context, error) {
		m, ok := run.metas[p.Id]
		if !ok || m.name != p.Name {
			m = &scenarioMeta{pickleID: p.Id, id: p.Uri + "#" + p.Id, name: p.Name, selected: true}
		}
		if !m.selected {
			return ctx, godog.ErrSkip // go test -run did not select it: its steps do not run
		}
		s := &scenario{meta: m, run: run}
		run.mu.Lock()
		run.states[p.Id] = s
		run.mu.Unlock()
		return withScenario(ctx, s), nil
	})
	sc.StepContext().Before(func(ctx context.Context, st *godog.Step) (context.Context, error) {
		if s, err := current(ctx); err == nil {
			s.stepStart = time.Now()
			s.hadObs = s.obs != nil
		}
		return ctx, nil
	})
	sc.StepContext().After(func(ctx context.Context, st *godog.Step, status godog.StepResultStatus, err error) (context.Context, error) {
		// A hook returns no error of its own: godog would add it to the
		// step's error a second time.
		s, cerr := current(ctx)
		if cerr != nil {
			return ctx, nil
		}
		return run.afterStep(ctx, s, st, status, err), nil
	})
	sc.After(func(ctx context.Context, p *godog.Scenario, err error) (context.Context, error) {
		if s, cerr := current(ctx); cerr == nil {
			if run.observer != nil {
				run.observer.q.arrive(s.meta.id)
			}
			s.finished = true
			s.final = s.status() // decided here, once: what is printed is what every report says
			run.printProgress(s)
		}
		return ctx, nil
	})
}

// afterStep records the step and, when it failed, attaches the page load's
// screenshots to it (godog carries them into Cucumber JSON).
func (run *suiteRun) afterStep(ctx context.Context, s *scenario, st *godog.Step, status godog.StepResultStatus, err error) context.Context {
	rs := reports.Step{Text: st.Text, Status: status.String()}
	if len(st.AstNodeIds) > 0 {
		rs.Keyword = strings.TrimSpace(s.meta.keywords[st.AstNodeIds[0]])
	}
	if !s.stepStart.IsZero() {
		rs.DurationMs = time.Since(s.stepStart).Milliseconds()
	}
	var skip *skipError
	switch {
	case status == godog.StepUndefined:
		rs.Error = undefinedStep(st.Text).Error()
	case errors.As(err, &skip):
		if s.skipReason == "" {
			s.skipReason = skip.reason
		}
	case errors.Is(err, godog.ErrSkip):
		if s.skipReason == "" {
			s.skipReason = "skipped by step: " + st.Text
		}
	case err != nil:
		rs.Error = err.Error()
	}
	if status != godog.StepPassed && status != godog.StepSkipped && s.failedStep == "" {
		s.failedStep = st.Text
		s.failErr = err
		if rs.Error == "" {
			rs.Error = "step " + status.String()
		}
		if s.obs != nil && s.obs.res != nil {
			for _, shot := range s.obs.res.Screenshots {
				ctx = godog.Attach(ctx, godog.Attachment{FileName: shot.Name, MediaType: "image/png", Body: shot.PNG})
			}
		}
	}
	// The step that opened the page takes as long as the page load, not as
	// long as it queued for a browser slot.
	// A shared load is counted once, on the scenario that started it, so
	// that the scenarios' times add up (junit.xml's suites).
	if !s.hadObs && s.obs != nil {
		rs.DurationMs = s.obs.took.Milliseconds()
		if s.shared {
			rs.DurationMs = 0
		}
	}
	s.steps = append(s.steps, rs)
	return ctx
}

func (run *suiteRun) printProgress(s *scenario) {
	w := run.cfg.Progress
	if w == nil {
		return
	}
	var dur int64
	for _, st := range s.steps {
		dur += st.DurationMs
	}
	line := fmt.Sprintf("  %-8s %6.2fs  %s › %s", s.status(), float64(dur)/1000, s.meta.feature, s.meta.name)
	if s.shared {
		line += "  (shared page load)"
	}
	if len(s.warnings) > 0 {
		line += "  warning: " + strings.Join(s.warnings, ", ")
	}
	if s.skipReason != "" {
		line += "\n           skipped: " + s.skipReason
	}
	run.progressMu.Lock()
	defer run.progressMu.Unlock()
	for _, st := range s.steps {
		if st.Error == "" {
			continue
		}
		line += "\n           ✗ " + st.Text + "\n             " + run.errorOnce(s, st.Error)
		break
	}
	if !run.cfg.Browser.Reveal {
		line = finding.RedactText(line)
	}
	fmt.Fprintln(w, line)
}

// errorOnce is a failed step's error for the progress lines: each finding
// of a page load is printed in full (message and hint) the first time a
// scenario of the load fails on it, then named only. Call with progressMu
// held.
func (run *suiteRun) errorOnce(s *scenario, text string) string {
	var ce *checkError
	if !errors.As(s.failErr, &ce) || s.obs == nil {
		if s.obs != nil {
			key := s.obs.key + "\x00error\x00" + text
			if run.printed[key] {
				return firstLine(text) + " (as above)"
			}
			run.printed[key] = true
		}
		return strings.ReplaceAll(text, "\n", "\n             ")
	}
	var b strings.Builder
	b.WriteString(ce.what)
	for _, f := range ce.findings {
		key := s.obs.key + "\x00" + string(f.Code) + "\x00" + f.Campaign
		b.WriteString("\n             " + findingLine(f))
		if run.printed[key] {
			b.WriteString(" (as above)")
			continue
		}
		run.printed[key] = true
		b.WriteString(": " + f.Message)
		if f.Hint != "" {
			b.WriteString("\n               fix: " + f.Hint)
		}
	}
	return b.String()
}

func findingLine(f finding.Finding) string {
	s := string(f.Code) + " [" + string(f.Level) + "]"
	if f.Campaign != "" {
		s += " (campaign " + f.Campaign + ")"
	}
	if f.CausedBy != "" {
		s += " caused by " + string(f.CausedBy)
	}
	return s
}

// brokenReport lists every scenario as broken when the run could not start.
func (run *suiteRun) brokenReport(r *reports.Report, f finding.Finding) {
	r.Findings = append(r.Findings, f)
	for _, m := range run.order {
		r.Scenarios = append(r.Scenarios, reports.Scenario{
			ID: m.id, Feature: m.feature, Name: m.name, Tags: nonNil(m.tags), Status: reports.Broken,
			Steps: []reports.Step{}, Timeline: []timeline.Event{}, Attachments: []reports.Attachment{},
		})
		if w := run.cfg.Progress; w != nil {
			fmt.Fprintf(w, "  %-8s %6.2fs  %s › %s\n", reports.Broken, 0.0, m.feature, m.name)
		}
	}
	if w := run.cfg.Progress; w != nil {
		fmt.Fprintf(w, "  no verdict: %s\n", f.Message)
	}
}

// fillReport turns the scenarios' states into the report's scenarios,
// page loads and findings, in feature-file order. Statuses are the ones the
// progress lines printed.
func (run *suiteRun) fillReport(ctx context.Context, r *reports.Report) {
	order := map[string]int{}
	for i, m := range run.order {
		order[m.id] = i
	}
	notRunCount, unfinished := 0, 0
	for _, m := range run.order {
		s := run.states[m.pickleID]
		if s == nil {
			// Never started: filtered out by go test -run (skipped), or
			// the run was interrupted or godog refused it (no verdict).
			rs := reports.Scenario{
				ID: m.id, Feature: m.feature, Name: m.name, Tags: nonNil(m.tags), FeatureTags: m.featureTags, Status: reports.Broken,
				Steps: []reports.Step{}, Timeline: []timeline.Event{}, Attachments: []reports.Attachment{},
			}
			if !m.selected && ctx.Err() == nil {
				rs.Status, rs.SkipReason = reports.Skipped, notRun
				notRunCount++
			} else {
				unfinished++
			}
			r.Scenarios = append(r.Scenarios, rs)
			continue
		}
		r.Scenarios = append(r.Scenarios, run.scenarioReport(s))
		for _, f := range s.claimed {
			f.Scenario, f.PageLoad = s.meta.id, ""
			r.Findings = append(r.Findings, f)
		}
	}
	if notRunCount > 0 {
		run.partial = append(run.partial, fmt.Sprintf("%d scenario%s not run (go test -run)", notRunCount, plural(notRunCount)))
	}
	if unfinished > 0 {
		run.partial = append(run.partial, fmt.Sprintf("%d scenario%s did not finish", unfinished, plural(unfinished)))
	}
	if len(run.partial) > 0 {
		r.Partial, r.PartialReason = true, strings.Join(run.partial, "; ")
	}
	if run.observer != nil {
		run.fillPageLoads(r, order)
	}
	finding.Sort(r.Findings)
}

// fillPageLoads adds the page loads, and the findings of each that no step
// asserted: they belong to the page load, not to a scenario. The same code
// for the same campaign already stated by the report (the same problem seen
// by another load) is not repeated, and what a fault or logged-out load saw
// of the token's timing yields to the plain load's verdict (contextual).
func (run *suiteRun) fillPageLoads(r *reports.Report, order map[string]int) {
	type said struct{ code, campaign string }
	stated := map[said]bool{}
	for _, f := range r.Findings {
		stated[said{string(f.Code), f.Campaign}] = true
	}
	type load struct {
		obs   *observation
		users []*scenario
	}
	var loads []load
	plain := map[string]bool{} // profile keys whose plain load was observed
	for _, obs := range run.observer.all() {
		users := usersInOrder(obs, run, order)
		if len(users) == 0 {
			continue
		}
		loads = append(loads, load{obs, users})
		if obs.res != nil && obs.err == nil && obs.cond.fault == "" && !obs.cond.loggedOut {
			plain[obs.cond.profileKey] = true
		}
	}
	// a plain load that another shard runs says the timing there, as it
	// would in the whole run
	for k := range run.observer.elsewherePlain() {
		plain[k] = true
	}
	sort.Slice(loads, func(i, j int) bool { return order[loads[i].users[0].meta.id] < order[loads[j].users[0].meta.id] })
	for _, l := range loads {
		obs, users := l.obs, l.users
		pl := reports.PageLoad{ID: obs.slug, Conditions: obs.key, Status: reports.Passed, DurationMs: obs.took.Milliseconds(),
			Scenarios: []string{}, Timeline: []timeline.Event{}, Attachments: nonNil(obs.shots)}
		for _, u := range users {
			pl.Scenarios = append(pl.Scenarios, u.meta.id)
		}
		if obs.err != nil {
			pl.Status = reports.Broken
		}
		if obs.res != nil {
			pl.Timeline = nonNil(obs.res.Timeline)
			for _, f := range obs.res.Findings {
				k := said{string(f.Code), f.Campaign}
				if claimedByAny(f, users) || stated[k] || (contextual(f, obs.cond) && plain[obs.cond.profileKey]) {
					continue
				}
				stated[k] = true
				f.Scenario, f.PageLoad = "", pl.ID
				r.Findings = append(r.Findings, f)
				if f.Level == finding.Must && f.Allowed == "" && pl.Status == reports.Passed {
					pl.Status = reports.Failed
				}
			}
		}
		r.PageLoads = append(r.PageLoads, pl)
	}
}

func usersInOrder(obs *observation, run *suiteRun, order map[string]int) []*scenario {
	obs.mu.Lock()
	ids := append([]string(nil), obs.users...)
	obs.mu.Unlock()
	var out []*scenario
	for _, id := range ids {
		for _, s := range run.states {
			if s.meta.id == id {
				out = append(out, s)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].meta.id] < order[out[j].meta.id] })
	return out
}

func claimedByAny(f finding.Finding, users []*scenario) bool {
	for _, s := range users {
		for _, c := range s.claimed {
			if c.Code == f.Code && c.Campaign == f.Campaign && c.Message == f.Message {
				return true
			}
		}
	}
	return false
}

// scenarioReport is one scenario of report.json.
func (run *suiteRun) scenarioReport(s *scenario) reports.Scenario {
	rs := reports.Scenario{
		ID: s.meta.id, Feature: s.meta.feature, Name: s.meta.name, Tags: nonNil(s.meta.tags), FeatureTags: s.meta.featureTags,
		Status: s.status(), SkipReason: s.skipReason, BlockedBy: string(s.blockedBy),
		Steps: nonNil(s.steps), Timeline: []timeline.Event{}, Attachments: []reports.Attachment{},
		InShard: s.inShard,
	}
	if rs.Status == reports.Skipped && rs.SkipReason == "" {
		rs.SkipReason = "skipped"
	}
	for _, st := range s.steps {
		rs.DurationMs += st.DurationMs
	}
	if s.obs == nil {
		return rs
	}
	obs := s.obs
	rs.PageLoad = obs.slug
	obs.mu.Lock()
	sharing := len(obs.users)
	obs.mu.Unlock()
	events := []timeline.Event{{TMs: 0, Source: timeline.Harness, Event: "observation", Data: map[string]any{
		"conditions": obs.key,
		"shared":     s.shared,
		"started_by": obs.ranBy,
		"scenarios":  sharing,
		"run_ms":     obs.took.Milliseconds(),
	}}}
	if obs.res != nil {
		events = append(events, obs.res.Timeline...)
	}
	for _, n := range s.extra {
		events = append(events, timeline.Event{TMs: n.tMs, Source: timeline.Harness, Event: n.event, Campaign: n.campaign, Data: n.data})
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].TMs < events[j].TMs })
	rs.Timeline = events
	for _, a := range obs.shots {
		if s.failedStep != "" {
			a.Step = s.failedStep
		}
		rs.Attachments = append(rs.Attachments, a)
	}
	if obs.res != nil {
		for _, c := range obs.res.Campaigns {
			if c.Token == nil {
				continue
			}
			claims := c.Token.RedactedClaims
			if run.cfg.Browser.Reveal && c.Token.Claims != nil {
				claims = c.Token.Claims
			}
			rs.Tokens = append(rs.Tokens, reports.TokenView{
				Campaign: c.DivID, Fingerprint: c.Token.Fingerprint, Format: c.Token.Format,
				Header: c.Token.Header, InnerHeader: c.Token.InnerHeader, Claims: claims,
				Mode: c.Token.Mode, Fields: c.Token.FieldNames,
			})
		}
	}
	return rs
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// collectSteps indexes the keywords of the steps and the lines of the
// scenario and its example rows.
func collectSteps(bg *messages.Background, sc *messages.Scenario, keywords map[string]string, lines map[string]int64) {
	if bg != nil {
		for _, st := range bg.Steps {
			keywords[st.Id] = st.Keyword
		}
	}
	if sc == nil {
		return
	}
	if sc.Location != nil {
		lines[sc.Id] = sc.Location.Line
	}
	for _, st := range sc.Steps {
		keywords[st.Id] = st.Keyword
	}
	for _, ex := range sc.Examples {
		for _, row := range ex.TableBody {
			if row.Location != nil {
				lines[row.Id] = row.Location.Line
			}
		}
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
