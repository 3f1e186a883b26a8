package judge

import (
	"slices"

	"github.com/qualcert/qualcert/harness/finding"
)

// Vector is one event-log test vector (testdata/*.json): an observation and
// what the rules must make of it. Files named good_* expect no must finding,
// fail_* at least one; settle_* vectors check the settle rules at given
// instants. Every field but Observation is optional.
type Vector struct {
	Comment string `json:"comment,omitempty"`
	// Rules names the rules the vector exercises (finding codes, or
	// settle.*, token.verdict, demo, live…): every rule has good and
	// failing vectors. A good page is a good vector of every rule it passes.
	Rules       []string    `json:"rules"`
	Observation Observation `json:"observation"`
	// Expect is the exact set of must and should codes (info codes are not
	// part of the match), sorted.
	Expect []finding.Code `json:"expect"`
	// Campaigns, when set, are the expected outcome and page reaction per div.
	Campaigns map[string]CampaignExpect `json:"campaigns,omitempty"`
	// Settle are settle decisions to check on the same observation.
	Settle []SettleCheck `json:"settle,omitempty"`
	// Deadline, when set, is the expected AtDeadline verdict.
	Deadline *DeadlineCheck `json:"deadline,omitempty"`
	// Broken, when set, is the expected Broken code and a part of its
	// reason; every other vector must not be broken. Vectors that expect
	// it are named broken_*.
	Broken *BrokenCheck `json:"broken,omitempty"`
}

// BrokenCheck is an expected Broken answer.
type BrokenCheck struct {
	Code     finding.Code `json:"code"`
	Contains string       `json:"contains"`
}

// CampaignExpect is what a vector expects of one campaign.
type CampaignExpect struct {
	Outcome  string `json:"outcome,omitempty"`
	Reaction string `json:"reaction,omitempty"` // "-" for none
}

// SettleCheck is one expected settle decision.
type SettleCheck struct {
	Clock Clock   `json:"clock"`
	Done  bool    `json:"done"`
	Wake  float64 `json:"wake,omitempty"` // checked when not 0
}

// DeadlineCheck is the expected verdict at the scenario deadline.
type DeadlineCheck struct {
	NowMs       float64 `json:"now_ms"`
	OK          bool    `json:"ok"`
	Progressing *bool   `json:"progressing,omitempty"` // checked when set
}

// Codes returns the must and should codes of fs, sorted and unique.
func Codes(fs []finding.Finding) []finding.Code {
	var out []finding.Code
	for _, f := range fs {
		if f.Level != finding.Info {
			out = append(out, f.Code)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// NewVector captures an observation and its verdict as a vector (the
// expectations are the verdict's: review them before committing a vector).
func NewVector(o Observation, v Verdict) Vector {
	vec := Vector{Observation: o, Expect: Codes(v.Findings), Campaigns: map[string]CampaignExpect{}}
	if vec.Expect == nil {
		vec.Expect = []finding.Code{}
	}
	for _, c := range v.Campaigns {
		r := c.PageReaction
		if r == "" {
			r = "-"
		}
		vec.Campaigns[c.DivID] = CampaignExpect{Outcome: c.Outcome, Reaction: r}
	}
	return vec
}
