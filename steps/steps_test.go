package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/cucumber/godog"

	"github.com/qualcert/qualcert/features"
	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
	"github.com/qualcert/qualcert/reports"
)

// Every step of the embedded suites matches exactly one definition: an
// undefined or ambiguous sentence would fail every run.
func TestEveryStepOfTheSuitesMatchesOneDefinition(t *testing.T) {
	var res []*regexp.Regexp
	for _, d := range definitions() {
		res = append(res, regexp.MustCompile(d.pattern))
	}
	ts := godog.TestSuite{Options: &godog.Options{FS: features.FS, Paths: []string{features.Certification, features.Reference}}}
	feats, err := ts.RetrieveFeatures()
	if err != nil {
		t.Fatal(err)
	}
	steps := 0
	for _, ft := range feats {
		for _, p := range ft.Pickles {
			for _, st := range p.Steps {
				steps++
				n := 0
				for _, re := range res {
					if re.MatchString(st.Text) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%s: step %q matches %d definitions, want 1", p.Uri, st.Text, n)
				}
			}
		}
	}
	if steps < 50 {
		t.Errorf("only %d steps read from the embedded features", steps)
	}
}

// Every documented flow of share-info-at-campaign-load has a scenario in
// both suites, found by its tag.
func TestEveryDocumentedFlowHasScenarios(t *testing.T) {
	flows := []string{"@jws", "@jwe", "@inline-pii", "@access-token", "@invalid-token", "@expired-token",
		"@missing-token", "@late-setmetadata", "@multiple-divids", "@unhappy", "@tag"}
	for _, suite := range []string{features.Certification, features.Reference} {
		for _, tag := range flows {
			ts := godog.TestSuite{Options: &godog.Options{FS: features.FS, Paths: []string{suite}, Tags: tag}}
			feats, err := ts.RetrieveFeatures()
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, ft := range feats {
				n += len(ft.Pickles)
			}
			if n == 0 {
				t.Errorf("the %s suite has no scenario tagged %s", suite, tag)
			}
		}
	}
}

func TestConditionsKeyAndSlug(t *testing.T) {
	slow := harness.SlowPhone
	all := []conditions{
		{profileKey: "profile"},
		{profileKey: "profile", loggedOut: true},
		{profileKey: "profile", throttle: &slow},
		{profileKey: "profile", fault: finding.TokenExpired},
		{profileKey: "demo:expired"},
	}
	keys := map[string]bool{}
	safe := regexp.MustCompile(`^[a-z0-9.-]+$`)
	for _, c := range all {
		if keys[c.key()] {
			t.Errorf("two conditions share the key %q", c.key())
		}
		keys[c.key()] = true
		if !safe.MatchString(c.slug()) {
			t.Errorf("slug %q is not a safe folder name", c.slug())
		}
	}
	same := conditions{profileKey: "profile", throttle: &harness.Throttle{CPURate: slow.CPURate, Latency: slow.Latency, DownloadKbps: slow.DownloadKbps, UploadKbps: slow.UploadKbps}}
	if same.key() != all[2].key() {
		t.Errorf("equal throttles give different keys: %q and %q", same.key(), all[2].key())
	}
}

// Many scenarios asking for the same conditions at once share one page
// load; different conditions get their own; the browser never loads more
// pages at a time than its slots.
func TestObserverLoadsEachConditionsOnce(t *testing.T) {
	var calls, inFlight, maxInFlight atomic.Int32
	release := make(chan struct{})
	load := func(ctx context.Context, sc harness.Scenario) (*harness.Result, error) {
		calls.Add(1)
		n := inFlight.Add(1)
		for {
			m := maxInFlight.Load()
			if n <= m || maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		defer inFlight.Add(-1)
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return &harness.Result{Findings: []finding.Finding{finding.New(finding.TokenLeaked, "seen in %s", sc.Name)}}, nil
	}
	o := newObserver(context.Background(), load, 2, "")
	conds := []conditions{{profileKey: "a"}, {profileKey: "a", loggedOut: true}, {profileKey: "b"}}
	var wg sync.WaitGroup
	got := make([]*observation, 30)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := conds[i%len(conds)]
			obs, _, err := o.observe(context.Background(), fmt.Sprint("s", i), c, harness.Scenario{Name: c.key()})
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = obs
		}()
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 3 {
		t.Errorf("%d page loads for 3 sets of conditions", n)
	}
	if m := maxInFlight.Load(); m > 2 {
		t.Errorf("%d page loads at a time with 2 slots", m)
	}
	for i, obs := range got {
		if obs == nil || obs.key != conds[i%len(conds)].key() {
			t.Fatalf("scenario %d got the wrong page load", i)
		}
	}
	if n := len(o.all()); n != 3 {
		t.Errorf("%d observations recorded", n)
	}
}

func TestCheckNamesMustFindingsWithHintsAndWarnsOnShould(t *testing.T) {
	expired := finding.New(finding.TokenExpired, "token expired 5m0s ago").WithCampaign("qualifio_insert_place_1")
	race := finding.New(finding.SetMetaDataRace, "setMetaData 120 ms before getMetaData").WithCampaign("qualifio_insert_place_1")
	s := &scenario{obs: &observation{res: &harness.Result{Findings: []finding.Finding{expired, race}}}}

	err := s.check("the token is not within its lifetime", finding.TokenExpired)
	var ce *checkError
	if !errors.As(err, &ce) {
		t.Fatalf("check = %v, want a checkError", err)
	}
	for _, want := range []string{"token.expired [must]", "qualifio_insert_place_1", "hint: " + expired.Hint} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if err := s.check("no race", finding.SetMetaDataRace); err != nil {
		t.Errorf("a should-level finding failed the step: %v", err)
	}
	if len(s.claimed) != 2 || !slices.Equal(s.warnings, []string{"setmetadata.race"}) {
		t.Errorf("claimed %v, warnings %v", s.claimed, s.warnings)
	}
	s.claim(expired)
	if len(s.claimed) != 2 {
		t.Errorf("a finding claimed twice is listed twice")
	}

	allowed := expired
	allowed.Allowed = "known, fixed in the next release"
	s2 := &scenario{obs: &observation{res: &harness.Result{Findings: []finding.Finding{allowed}}}}
	if err := s2.check("lifetime", finding.TokenExpired); err != nil {
		t.Errorf("an allowed finding failed the step: %v", err)
	}
	if err := (&scenario{}).check("anything", finding.KitMissing); err == nil || !strings.Contains(err.Error(), "participant opens the page") {
		t.Errorf("a check before the page load = %v, want the missing step named", err)
	}
}

func TestNotApplicableSkipsWithReasonButFailsInTheReferenceSuite(t *testing.T) {
	err := (&scenario{}).notApplicable("the profile's token.mode is %s", "inline")
	var skip *skipError
	if !errors.Is(err, godog.ErrSkip) || !errors.As(err, &skip) || skip.reason != "the profile's token.mode is inline" {
		t.Errorf("certification: %v, want a skip with its reason", err)
	}
	err = (&scenario{reference: true}).notApplicable("inline")
	if err == nil || errors.Is(err, godog.ErrSkip) {
		t.Errorf("reference: %v, want a failure", err)
	}
}

// fakePage is a loader that answers like the harness would for a good
// single-campaign inline JWS integration, with faults and logged-out visits
// reported the documented way, and an expired token when expired is set.
type fakePage struct {
	expired bool
	late    bool              // the token comes 1 s after the campaign asked for it
	refused finding.Code      // the verifier refuses the token with this code before reading its claims
	extra   []finding.Finding // added to the logged-in, unthrottled load
	calls   atomic.Int32
	keys    sync.Map
}

const fakeDiv = "qualifio_insert_place_945645"

func (f *fakePage) load(ctx context.Context, sc harness.Scenario) (*harness.Result, error) {
	f.calls.Add(1)
	rec := timeline.New()
	rec.Add(timeline.Kit, timeline.SetMetaData, fakeDiv, map[string]any{"fingerprint": "sha256:0123456789ab"})
	rec.Add(timeline.Campaign, timeline.GetMetaData, fakeDiv, nil)
	tok := &verify.Result{Format: "jws", Header: map[string]any{"alg": "ES256", "kid": "k1"}, Fingerprint: "sha256:0123456789ab",
		Mode: "inline", FieldNames: []string{"email"}, RedactedClaims: map[string]any{"email": "sha256:aaaaaaaaaaaa"},
		Claims: map[string]any{"email": "qa@example.com"}}
	c := harness.Campaign{DivID: fakeDiv, Created: true, Host: "jeux.example.com", SetMetaDataMs: 10, GetMetaDataMs: 300, MarginMs: 290, Outcome: harness.OutcomePrefilled, Token: tok}
	res := &harness.Result{
		Findings:    []finding.Finding{finding.New(finding.CampaignCNAMEUnchecked, "").WithCampaign(fakeDiv)},
		Screenshots: []harness.Screenshot{{Name: "page.png", PNG: []byte("\x89PNG fake")}},
		Duration:    time.Millisecond,
	}
	switch {
	case sc.Fault != "" && f.late:
		c.Outcome, c.ErrorCode, c.PageReaction = harness.OutcomeBlocked, string(sc.Fault), "setMetaData"
		res.Findings = append(res.Findings, finding.New(finding.SetMetaDataMissing, "no setMetaData").WithCampaign(fakeDiv))
	case sc.Fault != "":
		c.Outcome, c.ErrorCode, c.PageReaction = harness.OutcomeBlocked, string(sc.Fault), "setMetaData"
	case sc.LoggedOut:
		c.Outcome, c.Token = harness.OutcomeBlocked, nil
		res.Findings = append(res.Findings, finding.New(finding.PageLoggedOutBlocked, "").WithCampaign(fakeDiv))
	case sc.Throttle == nil && len(f.extra) > 0:
		res.Findings = append(res.Findings, f.extra...)
	case f.late:
		c.Outcome, c.ErrorCode, c.Token = harness.OutcomeBlocked, string(finding.SetMetaDataMissing), nil
		res.Findings = append(res.Findings,
			finding.New(finding.SetMetaDataLate, "setMetaData arrived 1000 ms after the campaign asked for metadata").WithCampaign(fakeDiv),
			finding.New(finding.CampaignBlocked, "blocked (setmetadata.missing)").WithCampaign(fakeDiv))
	case f.refused != "":
		tok.Claims, tok.RedactedClaims, tok.Mode, tok.FieldNames = nil, nil, "", nil
		c.Outcome, c.ErrorCode = harness.OutcomeBlocked, string(f.refused)
		res.Findings = append(res.Findings,
			finding.New(f.refused, "the token was refused").WithCampaign(fakeDiv),
			finding.New(finding.CampaignBlocked, "").WithCampaign(fakeDiv))
	case f.expired:
		c.Outcome, c.ErrorCode = harness.OutcomeBlocked, string(finding.TokenExpired)
		res.Findings = append(res.Findings,
			finding.New(finding.TokenExpired, "token expired 2m0s ago").WithCampaign(fakeDiv),
			finding.New(finding.CampaignBlocked, "").WithCampaign(fakeDiv))
	}
	res.Campaigns = []harness.Campaign{c}
	res.Timeline = rec.Events()
	return res, nil
}

func fakeProfile() *profile.Profile {
	return &profile.Profile{
		Name:      "Example Media",
		Page:      profile.Page{URL: "http://127.0.0.1:9/contest"},
		Campaigns: []profile.Campaign{{DivID: fakeDiv, Host: "jeux.example.com", CampaignID: "945644"}},
		Token:     profile.Token{Mode: profile.ModeInline, Issuer: "example-media"},
	}
}

func runFake(t *testing.T, page *fakePage, cfg Config) *reports.Report {
	t.Helper()
	run, report, err := prepare(cfg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run.execute(context.Background(), report, page.load)
	return report
}

func scenarioNamed(t *testing.T, r *reports.Report, name string) reports.Scenario {
	t.Helper()
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no scenario %q in the report", name)
	return reports.Scenario{}
}

// The whole certification suite over a fake page: one page load per set of
// conditions, inapplicable flows skipped with their reason, the report in
// file order with redacted tokens.
func TestCertificationSuiteOverAGoodPage(t *testing.T) {
	page := &fakePage{}
	dir := t.TempDir()
	var progress strings.Builder
	r := runFake(t, page, Config{Profile: fakeProfile(), ReportDir: dir, Progress: &syncWriter{w: &progress}})

	// logged in, throttled, two faults, logged out.
	if n := page.calls.Load(); n != 5 {
		t.Errorf("%d page loads, want 5 (one per set of conditions)", n)
	}
	counts := map[string]int{}
	for _, s := range r.Scenarios {
		counts[s.Status]++
		if s.Status == reports.Failed || s.Status == reports.Broken {
			t.Errorf("scenario %q %s: %+v", s.Name, s.Status, s.Steps)
		}
	}
	for name, reason := range map[string]string{
		"The token carries an access token for the user-info webservice": "token.mode is inline",
		"Several campaigns on one page each get their own token":         "1 campaign",
		"An encrypted token can be decrypted and is authenticated":       "decryption_key_file",
	} {
		s := scenarioNamed(t, r, name)
		if s.Status != reports.Skipped || !strings.Contains(s.SkipReason, reason) {
			t.Errorf("%q: status %s, skip reason %q; want skipped naming %q", name, s.Status, s.SkipReason, reason)
		}
	}
	if counts[reports.Passed] < 10 {
		t.Errorf("only %d scenarios passed: %v", counts[reports.Passed], counts)
	}
	if r.Scenarios[0].Feature != "The campaign tag" || !strings.HasPrefix(r.Scenarios[0].ID, "certification/1-tag.feature:") {
		t.Errorf("first scenario %q (%s): the report is not in file order", r.Scenarios[0].Name, r.Scenarios[0].ID)
	}

	kit := scenarioNamed(t, r, "The page loads the Qualifio kit")
	if len(kit.Tokens) != 1 || kit.Tokens[0].Claims["email"] != "sha256:aaaaaaaaaaaa" {
		t.Errorf("token view %+v: want the redacted claims", kit.Tokens)
	}
	if kit.Timeline[0].Event != "observation" || kit.Timeline[0].Data["conditions"] != "profile" {
		t.Errorf("first event %+v: want the observation note", kit.Timeline[0])
	}
	shared := 0
	for _, s := range r.Scenarios {
		if len(s.Timeline) > 0 && s.Timeline[0].Data["shared"] == true {
			shared++
		}
	}
	if shared == 0 {
		t.Error("no scenario says it shared a page load")
	}
	margin := scenarioNamed(t, r, "Every campaign receives its token before it asks for it")
	if !slices.ContainsFunc(margin.Timeline, func(e timeline.Event) bool {
		return e.Event == "setmetadata.margin" && e.Data["margin_ms"] == 290.0
	}) {
		t.Errorf("no margin event in %+v", margin.Timeline)
	}
	if len(kit.Attachments) != 1 {
		t.Fatalf("attachments %+v", kit.Attachments)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(kit.Attachments[0].Path))); err != nil {
		t.Errorf("screenshot not written: %v", err)
	}
	logout := scenarioNamed(t, r, "A visitor who is not logged in is not left on the spinner")
	if logout.Status != reports.Passed || !slices.ContainsFunc(r.Findings, func(f finding.Finding) bool {
		return f.Code == finding.PageLoggedOutBlocked && f.Scenario == logout.ID
	}) {
		t.Errorf("the logged-out warning is not attributed to its scenario: %s, %+v", logout.Status, r.Findings)
	}
	t.Logf("progress:\n%s", progress.String())
	if !strings.Contains(progress.String(), "passed") || !strings.Contains(progress.String(), "warning: page.logged_out_blocked") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

// An expired token fails the lifetime scenario with the code and its hint,
// and the failing step carries the screenshots, in the report and in
// godog's own Cucumber JSON.
func TestCertificationSuiteOverAnExpiredToken(t *testing.T) {
	run, r, err := prepare(Config{Profile: fakeProfile(), Tags: "~@throttled"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var cucumber syncWriter
	cucumber.w = &strings.Builder{}
	run.godogFormat, run.godogOutput = "cucumber", &cucumber
	run.execute(context.Background(), r, (&fakePage{expired: true}).load)
	var doc []struct {
		Elements []struct {
			Name  string `json:"name"`
			Steps []struct {
				Result struct {
					Status string `json:"status"`
				} `json:"result"`
				Embeddings []struct {
					MimeType string `json:"mime_type"`
				} `json:"embeddings"`
			} `json:"steps"`
		} `json:"elements"`
	}
	if err := json.Unmarshal([]byte(cucumber.w.String()), &doc); err != nil {
		t.Fatalf("godog's cucumber JSON: %v", err)
	}
	embedded := 0
	for _, f := range doc {
		for _, e := range f.Elements {
			for _, st := range e.Steps {
				if len(st.Embeddings) > 0 && st.Result.Status == "failed" && st.Embeddings[0].MimeType == "image/png" {
					embedded++
				}
			}
		}
	}
	if embedded == 0 {
		t.Error("no failed step carries a screenshot in godog's cucumber JSON")
	}

	s := scenarioNamed(t, r, "The token is used within its short lifetime")
	if s.Status != reports.Failed {
		t.Fatalf("status %s", s.Status)
	}
	failed := s.Steps[len(s.Steps)-1]
	spec, _ := finding.Lookup(finding.TokenExpired)
	if failed.Status != "failed" || !strings.Contains(failed.Error, "token.expired [must]") || !strings.Contains(failed.Error, spec.Hint) {
		t.Errorf("failed step %+v: want the code and hint", failed)
	}
	if len(s.Attachments) == 0 || s.Attachments[0].Step != failed.Text {
		t.Errorf("attachments %+v: want the screenshot on the failing step", s.Attachments)
	}
	n := 0
	for _, f := range r.Findings {
		if f.Code == finding.TokenExpired {
			n++
		}
	}
	if n == 0 {
		t.Error("token.expired is not in the report's findings")
	}
	for _, sc := range r.Scenarios {
		if slices.Contains(sc.Tags, "@throttled") {
			t.Errorf("--tags ~@throttled ran %q", sc.Name)
		}
	}
}

func TestPublisherFeatureFilesAndBadInput(t *testing.T) {
	dir := t.TempDir()
	own := `Feature: Our contest page
  Scenario: The contest campaign shows the prefilled form
    Given the publisher page of the profile
    When the participant opens the page
    Then the participant sees the identification form prefilled
  Scenario: A sentence qualcert does not know
    Given the publisher page of the profile
    Then the moon is made of cheese
`
	if err := os.WriteFile(filepath.Join(dir, "own.feature"), []byte(own), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runFake(t, &fakePage{}, Config{Profile: fakeProfile(), Features: os.DirFS(dir)})
	if len(r.Scenarios) != 2 || r.Scenarios[0].Status != reports.Passed || r.Scenarios[1].Status != reports.Failed {
		t.Errorf("scenarios %+v", r.Scenarios)
	}
	if st := r.Scenarios[1].Steps; len(st) < 2 || st[1].Status != "undefined" {
		t.Errorf("an unknown sentence: steps %+v, want it undefined", st)
	}
	own2 := "Feature: typo\n  Scenario: s\n    Given the publisher page of the profile\n    When the participant opens the page\n    Then the token is signed with an allowed algorithm\n"
	r = runFake(t, &fakePage{}, Config{Profile: fakeProfile(), Features: fstest.MapFS{"t.feature": {Data: []byte(own2)}}})
	if st := r.Scenarios[0].Steps; len(st) != 3 || !strings.Contains(st[2].Error, "Nearest:\n  the token is signed (JWS) with an allowed algorithm and a known key") {
		t.Errorf("an undefined step does not suggest the nearest: %+v", st)
	}

	if _, _, err := prepare(Config{Profile: fakeProfile(), Tags: "@no-such-tag"}, time.Now()); err == nil || !strings.Contains(err.Error(), "@no-such-tag") {
		t.Errorf("unmatched tags: %v", err)
	}
	bad := fstest.MapFS{"broken.feature": {Data: []byte("this is not Gherkin\nFeature: x\n  Scenario: y\n    Given a step\n")}}
	if _, _, err := prepare(Config{Profile: fakeProfile(), Features: bad}, time.Now()); err == nil {
		t.Error("a broken feature file was accepted")
	}
}

// A page that cannot be observed makes its scenarios broken, not failed.
func TestUnreachablePageIsBroken(t *testing.T) {
	run, report, err := prepare(Config{Profile: fakeProfile(), Tags: "@tag"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	run.execute(context.Background(), report, func(ctx context.Context, sc harness.Scenario) (*harness.Result, error) {
		f := finding.New(finding.EnvPageUnreachable, "connection refused")
		return &harness.Result{Findings: []finding.Finding{f}}, fmt.Errorf("opening the page: %w", harness.ErrBroken)
	})
	for _, s := range report.Scenarios {
		if s.Status != reports.Broken {
			t.Errorf("%q: %s, want broken", s.Name, s.Status)
		}
	}
	if !slices.ContainsFunc(report.Findings, func(f finding.Finding) bool { return f.Code == finding.EnvPageUnreachable }) {
		t.Errorf("findings %+v: want env.page_unreachable", report.Findings)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// A progress line carries step errors, which may quote what the page did:
// it is redacted unless the run reveals values.
func TestProgressLinesAreRedacted(t *testing.T) {
	jws := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	for _, reveal := range []bool{false, true} {
		var out bytes.Buffer
		run := &suiteRun{cfg: Config{Progress: &out}}
		run.cfg.Browser.Reveal = reveal
		s := &scenario{meta: &scenarioMeta{feature: "Security", name: "The token does not leak"}, run: run}
		s.steps = []reports.Step{{Text: "the token does not leak", Status: reports.Failed, Error: "console said " + jws + " for alice@demo-media.test"}}
		s.failedStep = "the token does not leak"
		run.printProgress(s)
		leaked := strings.Contains(out.String(), jws) || strings.Contains(out.String(), "alice@demo-media.test")
		if leaked != reveal {
			t.Errorf("reveal=%v: the progress line shows the values: %v\n%s", reveal, leaked, out.String())
		}
	}
}

func TestCheckTags(t *testing.T) {
	for _, ok := range []string{"", "@jws", "@jws,@jwe && ~@throttled", "~@unhappy", " @tag "} {
		if err := CheckTags(ok); err != nil {
			t.Errorf("CheckTags(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"@tag &&", "&&", "@a,,@b", "~", "@a @b", "@a&&~"} {
		if err := CheckTags(bad); err == nil {
			t.Errorf("CheckTags(%q) accepted", bad)
		}
	}
}

// Findings that no step asserted on belong to their page load, not to a
// scenario whose steps did not assert them; an info-level one already
// stated by a scenario is not repeated.
func TestUnclaimedFindingsBelongToTheirPageLoad(t *testing.T) {
	unhandled := finding.New(finding.PageErrorUnhandled, "no reaction").WithCampaign(fakeDiv)
	r := runFake(t, &fakePage{extra: []finding.Finding{unhandled}}, Config{Profile: fakeProfile()})
	var got []finding.Finding
	info := 0
	cnameScenario := scenarioNamed(t, r, "The campaigns are served from the publisher's own site")
	for _, f := range r.Findings {
		if f.Code == finding.PageErrorUnhandled {
			got = append(got, f)
		}
		if f.Code == finding.CampaignCNAMEUnchecked {
			info++
			if f.Scenario != cnameScenario.ID {
				t.Errorf("cname_unchecked attributed to %q, want the scenario that checks it (%s)", f.Scenario, cnameScenario.ID)
			}
		}
	}
	if len(got) != 1 || got[0].Scenario != "" || got[0].PageLoad != "profile" {
		t.Errorf("unclaimed finding reported as %+v, want once, on the page load \"profile\"", got)
	}
	if info != 1 {
		t.Errorf("the same info finding is reported %d times", info)
	}
	kit := scenarioNamed(t, r, "The page loads the Qualifio kit")
	if kit.Status != reports.Passed || kit.PageLoad != "profile" {
		t.Errorf("the first scenario of the load: %s on %q, want passed on the page load", kit.Status, kit.PageLoad)
	}
	var pl *reports.PageLoad
	for i := range r.PageLoads {
		if r.PageLoads[i].ID == "profile" {
			pl = &r.PageLoads[i]
		}
	}
	if pl == nil || len(pl.Scenarios) < 5 || !slices.Contains(pl.Scenarios, kit.ID) {
		t.Fatalf("page loads %+v", r.PageLoads)
	}
	if len(r.PageLoads) != 5 {
		t.Errorf("%d page loads, want 5", len(r.PageLoads))
	}
}

// A token 1 s late: one cause. The token checks say "not reached: blocked
// by setmetadata.late", campaign.blocked points at it, what the fault loads
// saw (no token before they ended) contradicts nothing, every progress line
// says what the report says, and allowing setmetadata.late passes the run.
func TestLateTokenIsOneCause(t *testing.T) {
	var progress strings.Builder
	r := runFake(t, &fakePage{late: true}, Config{Profile: fakeProfile(), Progress: &syncWriter{w: &progress}})
	r.Finalize()
	if r.Verdict != reports.Failed {
		t.Fatalf("verdict %s", r.Verdict)
	}
	for _, s := range r.Scenarios {
		if !strings.Contains(progress.String(), fmt.Sprintf("%-8s", s.Status)+" ") {
			continue
		}
		var line string
		for _, l := range strings.Split(progress.String(), "\n") {
			if strings.HasSuffix(strings.TrimSuffix(strings.TrimSuffix(l, "  (shared page load)"), "  warning: page.logged_out_blocked"), "› "+s.Name) {
				line = l
			}
		}
		if !strings.HasPrefix(strings.TrimSpace(line), s.Status+" ") {
			t.Errorf("%q: progress line %q, report says %s", s.Name, line, s.Status)
		}
	}
	for _, name := range []string{"A signed token uses an allowed algorithm and a known key", "The token names the publisher, the participant and the campaign", "The token is used within its short lifetime"} {
		s := scenarioNamed(t, r, name)
		if s.Status != reports.Failed || s.BlockedBy != string(finding.SetMetaDataLate) || !strings.Contains(s.Steps[len(s.Steps)-1].Error, "not reached") {
			t.Errorf("%q: %s blocked by %q, steps %+v", name, s.Status, s.BlockedBy, s.Steps)
		}
	}
	for _, f := range r.Findings {
		switch f.Code {
		case finding.CampaignBlocked:
			if f.CausedBy != finding.SetMetaDataLate {
				t.Errorf("campaign.blocked caused by %q", f.CausedBy)
			}
		case finding.SetMetaDataMissing:
			t.Errorf("setmetadata.missing (seen by a fault load that ended early) is reported: %+v", f)
		}
	}
	for _, s := range r.Scenarios {
		if strings.HasPrefix(s.Name, "The page reacts when") && s.Status != reports.Passed {
			t.Errorf("%q: %s", s.Name, s.Status)
		}
	}
	if n := strings.Count(progress.String(), "fix: "); n != 2 { // the plain and the throttled load
		t.Errorf("the hint of setmetadata.late is printed %d times, want once for its page load:\n%s", n, progress.String())
	}

	allow, err := reports.ParseAllow([]byte("- code: setmetadata.late\n  reason: the token service is slow until OPS-1\n"))
	if err != nil {
		t.Fatal(err)
	}
	r = runFake(t, &fakePage{late: true}, Config{Profile: fakeProfile(), Allow: allow})
	allow.Apply(r)
	r.Finalize()
	if r.Verdict != reports.Passed || r.Partial || len(r.StaleAllowances) > 0 {
		t.Errorf("with setmetadata.late allowed: verdict %s, partial %v, stale %v; findings %v", r.Verdict, r.Partial, r.StaleAllowances, r.Findings)
	}
	for _, s := range r.Scenarios {
		if s.Status == reports.Failed {
			t.Errorf("%q failed with its cause allowed: %+v", s.Name, s.Steps)
		}
	}
	s := scenarioNamed(t, r, "The token is used within its short lifetime")
	if s.Status != reports.Skipped || !strings.Contains(s.SkipReason, "not reached") {
		t.Errorf("a token check blocked by an allowed cause: %s %q", s.Status, s.SkipReason)
	}
}

// A run filtered by tags is partial, whatever its verdict.
func TestFilteredRunIsPartial(t *testing.T) {
	r := runFake(t, &fakePage{}, Config{Profile: fakeProfile(), Tags: "@tag"})
	r.Finalize()
	if !r.Partial || !strings.Contains(r.PartialReason, "--tags @tag") {
		t.Errorf("partial %v %q", r.Partial, r.PartialReason)
	}
	r = runFake(t, &fakePage{}, Config{Profile: fakeProfile()})
	if r.Partial {
		t.Errorf("the whole suite is partial: %q", r.PartialReason)
	}
}

// go test integration, seen from go test itself: the helper below runs the
// suite over a faulty fake page with Config.TestingT in a child go test, and
// this test reads its -test.v output.
func TestGoTestSubtestsTellTheSameStory(t *testing.T) {
	if os.Getenv("QUALCERT_GOTEST_HELPER") != "" {
		t.Skip("inside the helper")
	}
	for _, tc := range []struct {
		name   string
		allow  string
		failed bool
	}{{"failed", "", true}, {"allowed", "setmetadata.late", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run", "^TestGoTestHelper$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), "QUALCERT_GOTEST_HELPER=1", "QUALCERT_GOTEST_ALLOW="+tc.allow)
			out, err := cmd.CombinedOutput()
			text := string(out)
			if (err != nil) != tc.failed {
				t.Fatalf("child go test: err %v, want failed=%v\n%s", err, tc.failed, text)
			}
			m := regexp.MustCompile(`summary failed=(\d+) skipped=(\d+) verdict=(\w+)`).FindStringSubmatch(text)
			if m == nil {
				t.Fatalf("no summary line:\n%s", text)
			}
			fails := len(regexp.MustCompile(`(?m)^\s+--- FAIL: TestGoTestHelper/`).FindAllString(text, -1))
			skips := len(regexp.MustCompile(`(?m)^\s+--- SKIP: TestGoTestHelper/`).FindAllString(text, -1))
			if strconv.Itoa(fails) != m[1] || strconv.Itoa(skips) != m[2] {
				t.Errorf("go test counts %d failed and %d skipped subtests; the report %s failed, %s skipped\n%s", fails, skips, m[1], m[2], text)
			}
			if !strings.Contains(text, "the profile's token.mode is inline") {
				t.Errorf("a scenario that does not apply is not skipped with its reason:\n%s", text)
			}
			parentFailed := strings.Contains(text, "--- FAIL: TestGoTestHelper ")
			if parentFailed != (m[3] != reports.Passed) {
				t.Errorf("verdict %s, parent failed %v\n%s", m[3], parentFailed, text)
			}
			if tc.failed && !strings.Contains(text, "qualcert verdict failed") {
				t.Errorf("the parent does not name the verdict:\n%s", text)
			}
		})
	}
}

func TestGoTestHelper(t *testing.T) {
	if os.Getenv("QUALCERT_GOTEST_HELPER") == "" {
		t.Skip("run by TestGoTestSubtestsTellTheSameStory")
	}
	var allow *reports.AllowList
	if code := os.Getenv("QUALCERT_GOTEST_ALLOW"); code != "" {
		a, err := reports.ParseAllow([]byte("- code: " + code + "\n  reason: accepted\n"))
		if err != nil {
			t.Fatal(err)
		}
		allow = a
	}
	r := runFake(t, &fakePage{late: true}, Config{Profile: fakeProfile(), Allow: allow, TestingT: t})
	allow.Apply(r)
	r.Finalize()
	fmt.Printf("summary failed=%d skipped=%d verdict=%s\n", r.Summary.Failed, r.Summary.Skipped, r.Verdict)
}

// A token the verifier refused before reading its claims (a bad signature,
// a repeated member name, an empty token) proves nothing about its claims,
// lifetime or participant data: those scenarios are "not reached", blocked
// by the refusal, never passed on claims nobody judged nor failed on their
// own words ("a token without inline participant data"). The refusal is
// asserted by the signature scenario, not left to the page load.
func TestRefusedTokenBlocksTheClaimChecks(t *testing.T) {
	for _, code := range []finding.Code{finding.TokenSignatureInvalid, finding.TokenDuplicateMember, finding.TokenMissing} {
		t.Run(string(code), func(t *testing.T) {
			r := runFake(t, &fakePage{refused: code}, Config{Profile: fakeProfile()})
			r.Finalize()
			jws := scenarioNamed(t, r, "A signed token uses an allowed algorithm and a known key")
			if jws.Status != reports.Failed || jws.BlockedBy != "" {
				t.Errorf("the signature scenario: %s blocked by %q, want failed on %s", jws.Status, jws.BlockedBy, code)
			}
			for _, name := range []string{"The token names the publisher, the participant and the campaign",
				"The token is used within its short lifetime", "The token carries the participant's data"} {
				s := scenarioNamed(t, r, name)
				last := s.Steps[len(s.Steps)-1]
				for _, st := range s.Steps {
					if st.Status == reports.Failed {
						last = st
						break
					}
				}
				if s.Status != reports.Failed || s.BlockedBy != string(code) || !strings.HasPrefix(last.Error, "not reached") {
					t.Errorf("%q: %s blocked by %q, step error %q; want not reached, blocked by %s", name, s.Status, s.BlockedBy, last.Error, code)
				}
			}
			for _, f := range r.Findings {
				if f.Code == code && f.Scenario == "" {
					t.Errorf("%s is left to the page load: no scenario asserted it", code)
				}
			}
			if r.Summary.PageLoadsFailed != 0 {
				t.Errorf("%d page loads failed on findings no scenario asserted", r.Summary.PageLoadsFailed)
			}
			causes := 0
			for _, c := range reports.Causes(r) {
				if c.Finding.Level == finding.Must {
					causes++
				}
			}
			if causes != 1 {
				t.Errorf("%d causes to fix, want 1: %+v", causes, reports.Causes(r))
			}

			allow, err := reports.ParseAllow([]byte("- code: " + string(code) + "\n  reason: accepted\n"))
			if err != nil {
				t.Fatal(err)
			}
			r = runFake(t, &fakePage{refused: code}, Config{Profile: fakeProfile(), Allow: allow})
			allow.Apply(r)
			r.Finalize()
			if r.Verdict != reports.Passed || r.Summary.Failed != 0 {
				t.Errorf("with %s allowed: verdict %s, summary %+v", code, r.Verdict, r.Summary)
			}
		})
	}
}

// Every finding code a page load can produce is asserted by a step of the
// suite (stepDef.codes), so that it fails a scenario that names it and not
// the page load "that no scenario asserted". Only the environment codes
// (env.*: no verdict) belong to no step.
func TestEveryCodeIsAssertedByAStep(t *testing.T) {
	asserted := map[finding.Code]bool{}
	for _, d := range definitions() {
		for _, c := range d.codes {
			asserted[c] = true
		}
	}
	for _, c := range finding.Codes() {
		if strings.HasPrefix(string(c), "env.") {
			continue
		}
		if !asserted[c] {
			t.Errorf("no step asserts %s: it can only fail a page load", c)
		}
	}
}
