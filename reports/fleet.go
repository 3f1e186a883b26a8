package reports

// Fleets and shards: one run of several profiles (qualcert run --profile A
// --profile B, or a folder of profiles) certifies each site with its own
// Report, finalized on its own, then Combine joins them into the run's
// report: the scenarios, page loads and findings of every site, their ids
// prefixed with the site's id ("site/…"), their campaigns too, and their
// features named after it ("[site] Feature"), so that junit.xml, cucumber.json and report.html show
// each site apart; Sites carries each site's verdict and counts. A shard
// (--shard i/n) runs a slice of the page loads; MergeSite joins the shard
// reports of one site back into the report a whole run would have written.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// SitesDir is the folder of a fleet report dir that holds each site's own
// report.json and attachments (SitesDir/<id>/).
const SitesDir = "sites"

// SiteResult is one site of a fleet, certified and finalized.
type SiteResult struct {
	ID      string
	Profile string // the profile file as given
	Report  *Report
}

// worse returns the worse of two verdicts: broken (no verdict) over
// failed over passed, as Finalize decides for one site.
func worse(a, b string) string {
	rank := map[string]int{Passed: 0, Failed: 1, Broken: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// WorstVerdict is the fleet's verdict from its sites' verdicts.
func WorstVerdict(verdicts ...string) string {
	v := Passed
	for _, x := range verdicts {
		v = worse(v, x)
	}
	return v
}

// Combine joins the finalized reports of a fleet's sites into the run's
// report. Its verdict is the worst of the sites' (broken, failed, passed),
// failed also when stale (an expected-deviations entry that matched no
// finding in any site); its summary adds the sites' up. Each site's report
// is unchanged; its attachments are expected under SitesDir/<id>/.
func Combine(fleet *FleetRef, sites []SiteResult, stale []AllowEntry) *Report {
	out := &Report{Schema: SchemaID, Fleet: fleet, Findings: []finding.Finding{}, Scenarios: []Scenario{}}
	var partial []string
	seenAssumption := map[string]bool{}
	seenAllowance := map[string]bool{} // unexercised in a site: listed once
	for _, e := range stale {
		seenAllowance[e.String()] = true
	}
	verdict := Passed
	for i, st := range sites {
		r := st.Report
		if i == 0 || r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if i == 0 {
			out.Tool, out.TagFilter, out.Fingerprints = r.Tool, r.TagFilter, r.Fingerprints
		}
		out.Revealed = out.Revealed || r.Revealed
		dir := SitesDir + "/" + st.ID + "/"
		prefix := st.ID + "/"
		for _, s := range r.Scenarios {
			if s.ID == "" {
				s.ID = s.Name
			}
			s.ID = prefix + s.ID
			s.Feature = "[" + st.ID + "] " + s.Feature
			if s.URI != "" {
				s.URI = prefix + s.URI
			}
			if s.PageLoad != "" {
				s.PageLoad = prefix + s.PageLoad
			}
			s.Attachments = relocate(s.Attachments, dir)
			s.Timeline = campaignsOf(s.Timeline, prefix)
			if len(s.Tokens) > 0 {
				toks := make([]TokenView, len(s.Tokens))
				for j, tv := range s.Tokens {
					if tv.Campaign != "" {
						tv.Campaign = prefix + tv.Campaign
					}
					toks[j] = tv
				}
				s.Tokens = toks
			}
			out.Scenarios = append(out.Scenarios, s)
		}
		for _, pl := range r.PageLoads {
			pl.ID = prefix + pl.ID
			ids := make([]string, len(pl.Scenarios))
			for j, id := range pl.Scenarios {
				ids[j] = prefix + id
			}
			pl.Scenarios = ids
			pl.Attachments = relocate(pl.Attachments, dir)
			pl.Timeline = campaignsOf(pl.Timeline, prefix)
			out.PageLoads = append(out.PageLoads, pl)
		}
		for _, f := range r.Findings {
			if f.Scenario != "" {
				f.Scenario = prefix + f.Scenario
			}
			if f.PageLoad != "" {
				f.PageLoad = prefix + f.PageLoad
			}
			if f.Campaign != "" {
				f.Campaign = prefix + f.Campaign
			}
			out.Findings = append(out.Findings, f)
		}
		for _, a := range r.Assumptions {
			if !seenAssumption[a.Name+"\x00"+a.Value] {
				seenAssumption[a.Name+"\x00"+a.Value] = true
				out.Assumptions = append(out.Assumptions, a)
			}
		}
		for _, e := range r.UnexercisedAllowances {
			if !seenAllowance[e.String()] {
				seenAllowance[e.String()] = true
				out.UnexercisedAllowances = append(out.UnexercisedAllowances, e)
			}
		}
		out.StaleAllowances = append(out.StaleAllowances, r.StaleAllowances...)
		if r.Partial {
			partial = append(partial, st.ID+": "+r.PartialReason)
		}
		out.Summary = addSummary(out.Summary, r.Summary)
		verdict = worse(verdict, r.Verdict)
		out.Sites = append(out.Sites, Site{
			ID: st.ID, Profile: st.Profile, Name: r.Profile.Name, PageURL: r.Profile.PageURL,
			Verdict: r.Verdict, Summary: r.Summary, DurationMs: r.DurationMs,
			Partial: r.Partial, PartialReason: r.PartialReason, Report: dir + JSONFile,
		})
	}
	out.StaleAllowances = append(out.StaleAllowances, stale...)
	if len(stale) > 0 {
		verdict = worse(verdict, Failed)
	}
	out.Verdict = verdict
	out.Profile = ProfileRef{Name: fmt.Sprintf("fleet of %d site%s", len(sites), plural(len(sites), "", "s"))}
	if len(sites) > 0 {
		names := make([]string, len(sites))
		for i, st := range sites {
			names[i] = st.ID
		}
		out.Profile.Name += ": " + strings.Join(names, ", ")
		// page_url stays "": a fleet has a page per site (sites[].page_url)
	}
	if len(partial) > 0 {
		out.Partial, out.PartialReason = true, strings.Join(partial, "; ")
		// the same reason for every site (--tags) is said once
		if len(partial) == len(sites) {
			same := true
			for _, st := range sites {
				same = same && st.Report.PartialReason == sites[0].Report.PartialReason
			}
			if same {
				out.PartialReason = sites[0].Report.PartialReason
			}
		}
	}
	finding.Sort(out.Findings)
	return out
}

// FleetAllowances settles an expected-deviations file over the sites of a
// fleet, each already given Apply and Finalize: an entry that matched
// nothing in one site is listed there as unexercised (it may be about
// another site), and it is stale, failing the fleet, only when it matched
// nothing in any site of a complete run. It returns the fleet's stale
// entries (for Combine) and finalizes the sites again.
func FleetAllowances(sites []SiteResult) []AllowEntry {
	count := map[string]int{}
	var entries []AllowEntry
	for _, st := range sites {
		r := st.Report
		for _, e := range r.StaleAllowances {
			if count[e.String()] == 0 {
				entries = append(entries, e)
			}
			count[e.String()]++
		}
		r.UnexercisedAllowances = append(r.UnexercisedAllowances, r.StaleAllowances...)
		r.StaleAllowances = nil
		r.Finalize()
	}
	var stale []AllowEntry
	for _, e := range entries {
		if count[e.String()] == len(sites) {
			stale = append(stale, e)
		}
	}
	return stale
}

// campaignsOf names the campaigns of evs after their site ("site/div"):
// two sites' campaigns are two campaigns, also when their divs share an id.
func campaignsOf(evs []timeline.Event, prefix string) []timeline.Event {
	out := make([]timeline.Event, len(evs))
	for i, e := range evs {
		if e.Campaign != "" {
			e.Campaign = prefix + e.Campaign
		}
		out[i] = e
	}
	return out
}

func relocate(as []Attachment, dir string) []Attachment {
	out := make([]Attachment, len(as))
	for i, a := range as {
		a.Path = dir + a.Path
		out[i] = a
	}
	return out
}

func addSummary(a, b Summary) Summary {
	return Summary{
		Scenarios: a.Scenarios + b.Scenarios, Passed: a.Passed + b.Passed, Failed: a.Failed + b.Failed,
		Skipped: a.Skipped + b.Skipped, Broken: a.Broken + b.Broken, Warnings: a.Warnings + b.Warnings,
		PageLoadsFailed: a.PageLoadsFailed + b.PageLoadsFailed,
	}
}

// ReadJSON reads a report.json that qualcert wrote.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := ValidateJSON(b); err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return &r, nil
}

// WriteJSONFile writes only report.json of r into dir (a site's own report
// in a fleet), redacted as WriteAll does.
func WriteJSONFile(dir string, r *Report, opt WriteOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating report dir: %w", err)
	}
	view := r.forOutput(opt.Reveal)
	return writeFileAtomic(filepath.Join(dir, JSONFile), func(w io.Writer) error { return writeJSON(w, view) })
}

// MergeSite joins the shard reports of one site (the same scenarios, each
// run in the one shard its page load falls in) into the report the whole
// run would have written, finalized. missing are the shards not given
// (qualcert merge --partial): their scenarios stay skipped and the report is
// partial. Page-load findings are stated once, as a whole run states them:
// not when a scenario of any shard asserted the same code on the same
// campaign, nor when an earlier page load already did.
func MergeSite(shards []*Report, missing []int) (*Report, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("no shard to merge")
	}
	base := shards[0]
	for _, r := range shards[1:] {
		if len(r.Scenarios) != len(base.Scenarios) {
			return nil, fmt.Errorf("the shards list different scenarios (%d and %d): not shards of one run", len(base.Scenarios), len(r.Scenarios))
		}
		for i := range r.Scenarios {
			if r.Scenarios[i].ID != base.Scenarios[i].ID {
				return nil, fmt.Errorf("the shards list different scenarios (%q and %q): not shards of one run", base.Scenarios[i].ID, r.Scenarios[i].ID)
			}
		}
	}
	m := &Report{
		Schema: base.Schema, Tool: base.Tool, Profile: base.Profile, StartedAt: base.StartedAt,
		Revealed: base.Revealed, Fingerprints: base.Fingerprints, TagFilter: base.TagFilter,
		Assumptions: base.Assumptions, Findings: []finding.Finding{}, Scenarios: []Scenario{},
	}
	if base.Shard != nil && base.Shard.BasePartialReason != "" {
		m.Partial, m.PartialReason = true, base.Shard.BasePartialReason
	}
	var end time.Time
	order := map[string]int{}
	owner := map[string]int{} // scenario id → index of the shard report that ran it
	for i := range base.Scenarios {
		chosen := -1
		for j, r := range shards {
			if r.Scenarios[i].InShard == 0 {
				chosen = j
				break
			}
		}
		s := base.Scenarios[i]
		if chosen >= 0 {
			s = shards[chosen].Scenarios[i]
			owner[s.ID] = chosen
		}
		order[s.ID] = i
		m.Scenarios = append(m.Scenarios, s)
	}
	for j, r := range shards {
		if r.StartedAt.Before(m.StartedAt) {
			m.StartedAt = r.StartedAt
		}
		if e := r.StartedAt.Add(time.Duration(r.DurationMs) * time.Millisecond); e.After(end) {
			end = e
		}
		for _, f := range r.Findings {
			if f.Scenario != "" {
				if o, ok := owner[f.Scenario]; ok && o == j {
					m.Findings = append(m.Findings, f)
				}
			}
		}
	}
	m.DurationMs = end.Sub(m.StartedAt).Milliseconds()
	// page loads, in the order of their first scenario, as a run lists them
	type load struct {
		pl    PageLoad
		shard int
	}
	var loads []load
	seen := map[string]bool{}
	for j, r := range shards {
		for _, pl := range r.PageLoads {
			if seen[pl.ID] {
				return nil, fmt.Errorf("page load %q is in two shards: the shards overlap", pl.ID)
			}
			seen[pl.ID] = true
			loads = append(loads, load{pl, j})
		}
	}
	first := func(pl PageLoad) int {
		best := len(order)
		for _, id := range pl.Scenarios {
			if o, ok := order[id]; ok && o < best {
				best = o
			}
		}
		return best
	}
	sort.SliceStable(loads, func(a, b int) bool { return first(loads[a].pl) < first(loads[b].pl) })
	type said struct{ code, campaign string }
	stated := map[said]bool{}
	for _, f := range m.Findings {
		stated[said{string(f.Code), f.Campaign}] = true
	}
	for _, l := range loads {
		m.PageLoads = append(m.PageLoads, l.pl)
		for _, f := range shards[l.shard].Findings {
			if f.Scenario != "" || f.PageLoad != l.pl.ID {
				continue
			}
			k := said{string(f.Code), f.Campaign}
			if stated[k] {
				continue
			}
			stated[k] = true
			m.Findings = append(m.Findings, f)
		}
	}
	// an expected-deviations entry is stale when it matched nothing in
	// every shard (each shard, partial, listed it as unexercised)
	count := map[string]int{}
	var entries []AllowEntry
	for _, r := range shards {
		for _, e := range r.UnexercisedAllowances {
			k := e.String()
			if count[k] == 0 {
				entries = append(entries, e)
			}
			count[k]++
		}
	}
	for _, e := range entries {
		if count[e.String()] < len(shards) {
			continue
		}
		if m.Partial || m.TagFilter != "" || len(missing) > 0 {
			m.UnexercisedAllowances = append(m.UnexercisedAllowances, e)
		} else {
			m.StaleAllowances = append(m.StaleAllowances, e)
		}
	}
	if len(missing) > 0 {
		reason := fmt.Sprintf("merged without shard%s %s of %d (--partial)", plural(len(missing), "", "s"), joinInts(missing), base.Shard.Count)
		if m.PartialReason != "" {
			reason = m.PartialReason + "; " + reason
		}
		m.Partial, m.PartialReason = true, reason
	}
	m.Finalize()
	return m, nil
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
