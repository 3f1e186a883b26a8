// Package reports turns the results of a run into what people and machines
// read: report.json (CONTRACT §3), report.html, junit.xml, cucumber.json and
// the terminal summary.
//
// The run builds one [Report] (scenarios with their steps, timelines,
// decoded tokens and screenshots; findings from package finding), then:
//
//	allow, err := reports.LoadAllow(path) // --allow, optional
//	allow.Apply(r)                        // Finding.Allowed = reason; stale entries on r
//	r.Finalize()                          // sort, count, verdict
//	paths, err := reports.WriteAll(dir, r, reports.WriteOptions{Reveal: reveal})
//	reports.WriteSummary(os.Stdout, r, paths[1])
//
// Who reads what: a CI gates on the exit code and reads junit.xml (one
// testcase per scenario, failures carry the finding code and hint) or
// cucumber.json; tools read report.json, whose JSON Schema is embedded
// ([Schema], reports/schema/report.schema.json; [ValidateJSON]); people read
// report.html, a single self-contained file that makes no request of any
// kind, and the terminal summary.
//
// Privacy: producers redact upstream (fingerprints and field names). The
// writers redact a second time on a copy, unless the run was revealed: see
// redact.go for exactly what is scrubbed. The Report given to WriteAll is
// never modified.
//
// Findings are tied to a scenario through Finding.Scenario, which holds the
// scenario's ID or, failing that, its name. A requirement tag on a scenario
// (@R-TOKEN-3) says which requirements it exercises, for the matrix of the
// HTML report; a scenario without such tags exercises them all.
package reports

import (
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// SchemaID is the id of report.json's schema.
const SchemaID = "qualcert.report/v1"

// Verdicts and statuses.
const (
	Passed  = "passed"
	Failed  = "failed"
	Skipped = "skipped"
	Broken  = "broken"
	Allowed = "allowed" // a finding matched by the expected-deviations file
)

// Report is report.json.
type Report struct {
	Schema     string            `json:"schema"`
	Tool       Tool              `json:"tool"`
	Profile    ProfileRef        `json:"profile"`
	StartedAt  time.Time         `json:"started_at"`
	DurationMs int64             `json:"duration_ms"`
	Verdict    string            `json:"verdict"`
	Summary    Summary           `json:"summary"`
	Findings   []finding.Finding `json:"findings"`
	Scenarios  []Scenario        `json:"scenarios"`
	Revealed   bool              `json:"revealed,omitempty"` // --reveal was given: values are not redacted
	// JudgedAsOf is the instant the tokens' time claims (exp, nbf, iat)
	// were judged as of, when not the moment of the run (run --at, a
	// replay): a captured token judged as of its capture.
	JudgedAsOf *time.Time `json:"judged_as_of,omitempty"`
	// Replay names the capture (HAR) the page was answered from, when the
	// run was a replay (run --replay): the file, its page start and its
	// number of requests.
	Replay string `json:"replay,omitempty"`
	// Fingerprints says how to read the fingerprints of the report: keyed
	// with a key of this run, they compare within this report only.
	Fingerprints string `json:"fingerprints,omitempty"`
	// StaleAllowances are the entries of the expected-deviations file
	// (--allow) that matched no finding: each one fails the run, as in the
	// OIDF conformance suite, so that the file never hides a fixed problem.
	StaleAllowances []AllowEntry `json:"stale_allowances,omitempty"`
	// TagFilter is the --tags expression when only part of the suite ran.
	TagFilter string `json:"tag_filter,omitempty"`
	// UnexercisedAllowances are the entries that matched no finding in a
	// filtered run: the scenarios they are about may not have run, so they
	// are listed, not failed.
	UnexercisedAllowances []AllowEntry `json:"unexercised_allowances,omitempty"`
	// Partial is true when only part of the certification suite ran
	// (--tags, --features, scenarios not run): the verdict then covers what
	// ran and the run is not a certification. PartialReason says why.
	Partial       bool   `json:"partial,omitempty"`
	PartialReason string `json:"partial_reason,omitempty"`
	// PageLoads are the page loads of the run, each shared by the scenarios
	// that asked the same conditions: one timeline and one set of
	// screenshots each. A finding that no scenario asserted names its page
	// load (Finding.PageLoad) instead of a scenario.
	PageLoads []PageLoad `json:"page_loads,omitempty"`
	// Assumptions are what the reference side assumed about the real
	// Qualifio kit and campaign in this run (CONTRACT §6), with the values
	// used and the verdicts that rest on each.
	Assumptions []Assumption `json:"assumptions,omitempty"`
	// Sites are the sites of a fleet run (several profiles): a verdict and
	// counts each; the scenarios, page loads and findings of the report are
	// then those of every site, their ids prefixed with the site's id.
	// Absent for a run of one profile.
	Sites []Site `json:"sites,omitempty"`
	// Fleet identifies the set of sites and the suite selection a run
	// certified; shards of one fleet share it (qualcert merge checks it).
	Fleet *FleetRef `json:"fleet,omitempty"`
	// Shard says the report is one slice of the run's page loads
	// (--shard i/n): partial, never a certification until merged.
	Shard *ShardRef `json:"shard,omitempty"`
	// Merged says the report was joined from shard reports (qualcert merge).
	Merged *MergeRef `json:"merged,omitempty"`
}

// Site is one site of a fleet run.
type Site struct {
	ID            string  `json:"id"`      // from the profile's file name; prefixes its scenarios, page loads and findings
	Profile       string  `json:"profile"` // the profile file as given
	Name          string  `json:"name"`
	PageURL       string  `json:"page_url"`
	Verdict       string  `json:"verdict"`
	Summary       Summary `json:"summary"`
	DurationMs    int64   `json:"duration_ms"`
	Partial       bool    `json:"partial,omitempty"`
	PartialReason string  `json:"partial_reason,omitempty"`
	Report        string  `json:"report"` // the site's own report.json, relative to the report dir
}

// FleetRef identifies what a run certified: its sites and suite selection.
type FleetRef struct {
	ID    string `json:"id"`    // sha256 (16 hex digits) of the sites and the selection
	Sites int    `json:"sites"` // how many
}

// ShardRef is the slice a shard report covers.
type ShardRef struct {
	Index int    `json:"index"`
	Count int    `json:"count"`
	Fleet string `json:"fleet"` // FleetRef.ID
	// BasePartialReason is why the run would be partial without sharding
	// ("" when it would be complete): merge restores it.
	BasePartialReason string `json:"base_partial_reason,omitempty"`
}

// MergeRef says which shards a merged report joined.
type MergeRef struct {
	Fleet   string `json:"fleet"`
	Count   int    `json:"count"`
	Shards  []int  `json:"shards"`            // the indices joined
	Missing []int  `json:"missing,omitempty"` // --partial: the shards not joined
}

// Assumption is one behaviour of the real Qualifio kit or campaign that the
// run assumed (harness/kit/PROTOCOL.md, "Assumptions").
type Assumption struct {
	Name     string         `json:"name"`
	Value    string         `json:"value"`
	Text     string         `json:"text"`
	Verdicts []finding.Code `json:"verdicts"`
}

// PageLoad is one load of the publisher page under one set of conditions.
type PageLoad struct {
	ID          string           `json:"id"`
	Conditions  string           `json:"conditions"`
	Scenarios   []string         `json:"scenarios"` // ids, in file order
	DurationMs  int64            `json:"duration_ms"`
	Status      string           `json:"status"` // of the findings no scenario asserted: passed, failed, broken
	Timeline    []timeline.Event `json:"timeline"`
	Attachments []Attachment     `json:"attachments"`
}

// Tool names qualcert and its version.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// ProfileRef identifies the certified integration.
type ProfileRef struct {
	Name    string `json:"name"`
	PageURL string `json:"page_url"`
}

// Summary counts scenarios by status, and should-level findings as warnings.
type Summary struct {
	Scenarios int `json:"scenarios"`
	Passed    int `json:"passed"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	Broken    int `json:"broken"`
	Warnings  int `json:"warnings"`
	// PageLoadsFailed counts the page loads with a must-level finding that
	// no scenario asserted: each is a failed test case of its own in
	// junit.xml and cucumber.json.
	PageLoadsFailed int `json:"page_loads_failed,omitempty"`
}

// Scenario is one Gherkin scenario's outcome.
type Scenario struct {
	ID          string   `json:"id,omitempty"`
	Feature     string   `json:"feature"`
	URI         string   `json:"uri,omitempty"`  // the feature file, for cucumber.json ("features/timing.feature")
	Line        int      `json:"line,omitempty"` // the scenario's line in URI
	Name        string   `json:"name"`
	Tags        []string `json:"tags"`
	FeatureTags []string `json:"feature_tags,omitempty"` // the tags of the feature (also in Tags, inherited)
	PageLoad    string   `json:"page_load,omitempty"`    // id of the page load it observed
	// BlockedBy is the code of the finding that kept the scenario from
	// checking what it states ("not reached: blocked by setmetadata.late").
	BlockedBy   string           `json:"blocked_by,omitempty"`
	Status      string           `json:"status"`
	SkipReason  string           `json:"skip_reason,omitempty"`
	DurationMs  int64            `json:"duration_ms"`
	Steps       []Step           `json:"steps"`
	Timeline    []timeline.Event `json:"timeline"`
	Attachments []Attachment     `json:"attachments"`
	Tokens      []TokenView      `json:"tokens,omitempty"` // decoded tokens seen, redacted unless --reveal
	// InShard is the shard (qualcert run --shard i/n) that runs this
	// scenario's page load, when it is not this report's: the scenario is
	// skipped here and ran there (qualcert merge takes it from there).
	InShard int `json:"in_shard,omitempty"`
}

// Step is one Gherkin step.
type Step struct {
	Keyword    string `json:"keyword,omitempty"`
	Text       string `json:"text"`
	Status     string `json:"status"` // passed, failed, skipped, undefined, pending
	Error      string `json:"error"`
	DurationMs int64  `json:"duration_ms,omitempty"`
}

// Attachment is evidence saved beside the report (a screenshot).
type Attachment struct {
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Path      string `json:"path"` // relative to the report dir
	Step      string `json:"step,omitempty"`
}

// TokenView is a decoded token as the reports show it.
type TokenView struct {
	Campaign    string         `json:"campaign,omitempty"`
	Fingerprint string         `json:"fingerprint"`
	Format      string         `json:"format"`
	Header      map[string]any `json:"header,omitempty"`
	InnerHeader map[string]any `json:"inner_header,omitempty"`
	Claims      map[string]any `json:"claims,omitempty"` // redacted unless --reveal
	Mode        string         `json:"mode,omitempty"`
	Fields      []string       `json:"fields,omitempty"`
}
