package harness

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/judge"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

// observation is what the run saw so far, as the judge reads it: the
// composition root's one call into the pure rules (package judge).
func (r *run) observation(evs []timeline.Event) judge.Observation {
	p := r.sc.Profile
	o := judge.Observation{
		Scenario: r.sc.Name,
		PageURL:  p.Page.URL,
		Conditions: judge.Conditions{
			LoggedOut: r.sc.LoggedOut,
			Throttled: r.sc.Throttle != nil,
			Fault:     r.sc.Fault,
			ObserveMs: float64(r.observe()) / 1e6,
			LiveKit:   r.h.opt.LiveKit,
			KitWaitMs: float64(p.Timing.KitWait.D()) / 1e6,
		},
		NavStart: r.navStart,
		Events:   evs,
	}
	for _, c := range p.Campaigns {
		o.Campaigns = append(o.Campaigns, judge.CampaignSpec{DivID: c.DivID, Host: c.Host, CampaignID: c.CampaignID})
	}
	return o
}

// withEvidence adds what only the leak check reads: the raw tokens seen in
// the page, the page's requests (those to the campaign hosts excepted) and
// its console lines.
func (r *run) withEvidence(o judge.Observation) judge.Observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.Tokens = make(map[string]string, len(r.tokens))
	for fp, t := range r.tokens {
		o.Tokens[fp] = t
	}
	o.TokenDivs = make(map[string]string, len(r.tokenDiv))
	for fp, d := range r.tokenDiv {
		o.TokenDivs[fp] = d
	}
	for _, q := range r.requests {
		o.Requests = append(o.Requests, judge.Request{URL: q.URL, Referer: q.Referer, Body: q.Body})
	}
	for _, c := range r.console {
		o.Console = append(o.Console, c.Text)
	}
	return o
}

// judge turns what the run saw into campaigns and findings, and records the
// judgement's notes (judged reactions, leaks) on the timeline.
func (r *run) judge(evs []timeline.Event) ([]Campaign, []finding.Finding) {
	o := r.withEvidence(r.observation(evs))
	v := judge.Judge(o)
	r.dumpVector(o, v)
	for _, n := range v.Notes {
		observe.Record(r.rec, -1, n.Source, n.Event, n.Campaign, n.Data)
	}
	camps := make([]Campaign, 0, len(v.Campaigns))
	for _, c := range v.Campaigns {
		camps = append(camps, Campaign{
			DivID: c.DivID, Created: c.Created, Host: c.Host,
			SetMetaDataMs: c.SetMetaDataMs, GetMetaDataMs: c.GetMetaDataMs, MarginMs: c.MarginMs,
			Outcome: c.Outcome, ErrorCode: c.ErrorCode, PageReaction: c.PageReaction,
			Token: r.tokenResult(c.Token),
		})
	}
	return camps, v.Findings
}

// tokenResult returns the verifier's full result for the verdict the judge
// picked (the live iframe's first token), or one rebuilt from the verdict
// event for a token the verifier never saw (null, empty, not a string).
func (r *run) tokenResult(d *observe.TokenVerifiedData) *verify.Result {
	if d == nil {
		return nil
	}
	r.mu.Lock()
	res := r.results[d.Fingerprint]
	r.mu.Unlock()
	if res != nil && d.Fingerprint != "" {
		return res
	}
	return &verify.Result{Format: d.Format, Mode: d.Mode, Fingerprint: d.Fingerprint, Findings: d.Findings}
}

// observe is the bound on waiting for a page's reaction.
func (r *run) observe() time.Duration {
	if r.sc.Observe > 0 {
		return r.sc.Observe
	}
	return DefaultObserve
}

// Assumption is one behaviour the reference side assumes about the real
// Qualifio kit or campaign, with the value used in a run and the verdicts
// that rest on it.
type Assumption = judge.Assumption

// Assumptions lists what a run with profile p assumes (PROTOCOL.md,
// "Assumptions"); a nil profile (the demo) has the defaults.
func Assumptions(p *profile.Profile) []Assumption {
	if p == nil {
		return judge.Assumptions(judge.DefaultGetMetaDataDelay)
	}
	return judge.Assumptions(p.Timing.GetMetaDataDelay.D())
}

// VectorDirEnv names the environment variable that, when set to a folder,
// makes every Run write its observation and verdict there as an event-log
// vector (harness/judge/testdata format): how the vectors were captured
// from real runs. The file holds the raw tokens the page handed over (the
// leak check needs them): use it with test tokens only.
const VectorDirEnv = "QUALCERT_VECTOR_DIR"

// dumpVector writes the run's observation as a vector when VectorDirEnv is
// set; a failure to write is recorded on the timeline, never fatal.
func (r *run) dumpVector(o judge.Observation, v judge.Verdict) {
	dir := os.Getenv(VectorDirEnv)
	if dir == "" {
		return
	}
	vec := judge.NewVector(o, v)
	b, err := json.MarshalIndent(vec, "", " ")
	if err == nil {
		name := vectorName(r.sc.Name, v)
		err = os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644)
	}
	if err != nil {
		r.rec.Add(timeline.Harness, timeline.HarnessError, "", map[string]any{"error": "writing the vector: " + err.Error()})
	}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

func vectorName(scenario string, v judge.Verdict) string {
	prefix := "good_"
	if finding.HasMust(v.Findings) {
		prefix = "fail_"
	}
	slug := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(scenario), "-"), "-")
	if slug == "" {
		slug = "scenario"
	}
	return fmt.Sprintf("%s%s_%d.json", prefix, slug, time.Now().UnixNano()%1e6)
}
