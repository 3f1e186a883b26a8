// Package finding is the vocabulary every layer of qualcert speaks when it
// reports a problem: the verifier, the browser harness, the Gherkin steps and
// the reports all produce and consume [Finding] values.
//
// A finding is never free text alone. It carries a stable [Code] (CONTRACT §4:
// codes are added, never renamed), a [Level] that decides the verdict (any
// "must" fails a run), the id of the [Requirement] it enforces, and a hint
// that tells the publisher what to change. Build findings with [New], which
// fills the level, requirement and hint from the catalogue, so that the same
// code always explains itself the same way:
//
//	f := finding.New(finding.TokenExpired, "token expired %s ago", age)
//	f.Campaign = divID
//
// Messages must never contain a raw token or a participant value: use
// [Fingerprint] and field names instead (privacy by default, CONTRACT §3).
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// Level is how much a finding weighs on the verdict.
type Level string

const (
	// Must is a failure: the integration does not meet the method.
	Must Level = "must"
	// Should is a warning: the run still passes.
	Should Level = "should"
	// Info is context for the reader; it never changes the verdict.
	Info Level = "info"
)

// Rank orders levels from the most to the least severe (must=0).
func (l Level) Rank() int {
	switch l {
	case Must:
		return 0
	case Should:
		return 1
	default:
		return 2
	}
}

// Code is a stable finding code such as "token.expired".
type Code string

// Finding is one problem, observed once per scenario and campaign.
type Finding struct {
	Code        Code   `json:"code"`
	Level       Level  `json:"level"`
	Requirement string `json:"requirement"`
	// Scenario is the id of the scenario whose step asserted the finding;
	// empty for a finding of a page load that no scenario asserted, which
	// names its page load in PageLoad instead.
	Scenario string `json:"scenario,omitempty"`
	PageLoad string `json:"page_load,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	Message  string `json:"message"`
	Hint     string `json:"hint"`
	// Allowed is the reason given in the expected-deviations file (--allow)
	// when this finding is a known, accepted deviation: it then fails nothing.
	Allowed string `json:"allowed,omitempty"`
	// CausedBy is the code of the finding this one follows from on the same
	// page load and campaign (campaign.blocked caused by setmetadata.late):
	// the reports list it under its cause, and allowing the cause allows it.
	CausedBy Code `json:"caused_by,omitempty"`
}

func (f Finding) String() string {
	s := fmt.Sprintf("[%s] %s: %s", f.Level, f.Code, f.Message)
	if f.Campaign != "" {
		s += " (campaign " + f.Campaign + ")"
	}
	return s
}

// New builds a finding for code, with the level, requirement and hint of the
// catalogue. An unknown code panics: codes are constants of this package and
// a typo must fail the first test that reaches it, not ship.
func New(code Code, format string, args ...any) Finding {
	spec, ok := catalogue[code]
	if !ok {
		panic("finding: unknown code " + string(code))
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	if msg == "" {
		msg = spec.Summary
	}
	return Finding{Code: code, Level: spec.Level, Requirement: spec.Requirement, Message: msg, Hint: spec.Hint}
}

// WithLevel returns f at another level, for the few codes whose weight
// depends on context (setmetadata.divid_missing is must with several
// campaigns and should with one).
func (f Finding) WithLevel(l Level) Finding { f.Level = l; return f }

// WithCampaign returns f attributed to the campaign with that div id.
func (f Finding) WithCampaign(divID string) Finding { f.Campaign = divID; return f }

// Spec is the catalogue entry of a code.
type Spec struct {
	Code        Code
	Level       Level
	Requirement string
	Summary     string // what the code means, in one line
	Hint        string // what the publisher should change
	// Outcome marks a code that states a consequence of other findings
	// (the participant ended blocked): it is listed after its causes.
	Outcome bool
}

// Lookup returns the catalogue entry of code.
func Lookup(code Code) (Spec, bool) {
	s, ok := catalogue[code]
	return s, ok
}

// Codes returns every known code, sorted.
func Codes() []Code {
	out := make([]Code, 0, len(catalogue))
	for c := range catalogue {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// HasMust reports whether any finding is at level must and not allowed.
func HasMust(fs []Finding) bool {
	for _, f := range fs {
		if f.Level == Must && f.Allowed == "" {
			return true
		}
	}
	return false
}

// Has reports whether a finding with code is in fs.
func Has(fs []Finding, code Code) bool {
	for _, f := range fs {
		if f.Code == code {
			return true
		}
	}
	return false
}

// Sort orders findings by level (must first), then campaign, then code with
// outcomes after their causes, so that every report lists them the same way.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Level.Rank() != b.Level.Rank() {
			return a.Level.Rank() < b.Level.Rank()
		}
		if a.Campaign != b.Campaign {
			return a.Campaign < b.Campaign
		}
		if ao, bo := catalogue[a.Code].Outcome, catalogue[b.Code].Outcome; ao != bo {
			return bo // causes first, their outcome after
		}
		return a.Code < b.Code
	})
}

// Fingerprint is how a secret or a participant value appears in reports and
// logs: "sha256:" and the first 12 hex digits of its SHA-256. Two runs that
// saw the same token show the same fingerprint, and nothing more leaks.
func Fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256:" + hex.EncodeToString(sum[:])[:12]
}

// maxPublicClaim bounds a claim shown in clear: a long iss or aud is more
// likely something else stuffed into it than a publisher's name.
const maxPublicClaim = 128

// PublicClaim reports whether a token claim may be shown in clear in reports
// and logs: iss, aud and campaignId name the publisher and the campaign, not
// the participant, and a support engineer needs to read them to see why
// token.iss_mismatch or token.campaign_mismatch fired. They are public only
// with the shape of a name (a short string, a number, or a short list of
// short strings for aud); anything else is fingerprinted like every other
// claim value.
func PublicClaim(name string, val any) bool {
	switch name {
	case "iss", "aud", "campaignId":
	default:
		return false
	}
	switch x := val.(type) {
	case string:
		return len(x) <= maxPublicClaim
	case float64:
		return true
	case []any:
		if len(x) > 8 {
			return false
		}
		for _, v := range x {
			if s, ok := v.(string); !ok || len(s) > maxPublicClaim {
				return false
			}
		}
		return true
	}
	return false
}
