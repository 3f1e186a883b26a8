package steps

import (
	"strings"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/reports"
)

// One story per run: this file holds the rules that decide, once, what a
// page load's findings mean before any step asserts on them or anything
// prints them.
//
//   - Causes: a consequence (campaign.blocked: the participant ended on the
//     spinner) points at the finding it follows from on the same page load
//     and campaign (setmetadata.late), in Finding.CausedBy. The reports list
//     it under its cause, and the steps that could not check a token say
//     "not reached: blocked by setmetadata.late" instead of failing on their
//     own words.
//   - Allowances: the expected-deviations file (Config.Allow) is applied to
//     a page load's findings as soon as it is observed, so that a step that
//     asserts on an allowed finding passes and its progress line is final.
//     An allowed cause allows what it caused.
//   - Conditions: a page load under an injected fault or for a logged-out
//     visitor ends early by design; what it saw of the token's timing does
//     not contradict what the plain load established (see contextual).

// assignCauses sets CausedBy on the outcome findings of res (campaign.blocked)
// to the must-level finding they follow from: the code the campaign's error
// message named when the page load reported it, else the first must-level
// cause on the same campaign (or on the whole page, such as kit.missing).
func assignCauses(res *harness.Result) {
	if res == nil {
		return
	}
	errorCode := map[string]string{}
	for _, c := range res.Campaigns {
		errorCode[c.DivID] = c.ErrorCode
	}
	// A token pushed for a div that is not the campaign's (or for no div,
	// with several campaigns) is why that campaign never got one: its
	// setmetadata.missing follows from the setMetaData call to fix.
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Code != finding.SetMetaDataMissing || f.CausedBy != "" {
			continue
		}
		for _, c := range res.Findings {
			if (c.Code == finding.SetMetaDataDivIDUnknown || c.Code == finding.SetMetaDataDivIDMissing) &&
				c.Level == finding.Must && (c.Campaign == f.Campaign || c.Campaign == "") {
				f.CausedBy = c.Code
				break
			}
		}
	}
	for i := range res.Findings {
		f := &res.Findings[i]
		spec, _ := finding.Lookup(f.Code)
		if !spec.Outcome || f.CausedBy != "" {
			continue
		}
		if c := causeOf(res.Findings, f.Campaign, errorCode[f.Campaign]); c != nil {
			f.CausedBy = c.Code
		}
	}
}

// causeOf returns the finding that blocked campaign: one with the code the
// campaign's error message named, else the first must-level, non-outcome
// finding of the campaign or of the page (in finding.Sort order: the same
// run always names the same cause). A finding that itself follows from
// another (setmetadata.missing from setmetadata.divid_unknown) gives way to
// its root cause, so that every consequence names the one thing to fix.
func causeOf(fs []finding.Finding, campaign, errorCode string) *finding.Finding {
	return rootOf(fs, pickCause(fs, campaign, errorCode))
}

// rootOf follows f's CausedBy to the finding it names on the same campaign
// (or the page), at most len(fs) steps.
func rootOf(fs []finding.Finding, f *finding.Finding) *finding.Finding {
	for n := 0; f != nil && f.CausedBy != "" && n < len(fs); n++ {
		var next *finding.Finding
		for i := range fs {
			if fs[i].Code == f.CausedBy && (fs[i].Campaign == f.Campaign || fs[i].Campaign == "") {
				next = &fs[i]
				break
			}
		}
		if next == nil {
			break
		}
		f = next
	}
	return f
}

func pickCause(fs []finding.Finding, campaign, errorCode string) *finding.Finding {
	var best *finding.Finding
	for i := range fs {
		f := &fs[i]
		spec, _ := finding.Lookup(f.Code)
		if spec.Outcome || f.Level != finding.Must || strings.HasPrefix(string(f.Code), "env.") {
			continue
		}
		if f.Campaign != campaign && f.Campaign != "" {
			continue
		}
		if errorCode != "" && string(f.Code) == errorCode {
			return f
		}
		if best == nil || causeRank(f.Code) < causeRank(best.Code) {
			best = f
		}
	}
	return best
}

// causeRank orders candidate causes the way a page goes wrong: a page
// stopping its own campaign first, then no kit before no iframe before no (timely) token before a bad token.
func causeRank(c finding.Code) int {
	for i, prefix := range []string{"campaign.blocked_by_page", "campaign.minisite", "kit.", "campaign.", "setmetadata.", "token.", "userinfo.", "pii."} {
		if strings.HasPrefix(string(c), prefix) {
			return i
		}
	}
	return 99
}

// applyAllow marks the findings of res that the expected-deviations file
// allows (entries that name no scenario: those are matched when a step
// claims the finding), then lets an allowed cause allow its consequences.
func (run *suiteRun) applyAllow(res *harness.Result) {
	if res == nil || run.cfg.Allow == nil {
		return
	}
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Allowed == "" {
			f.Allowed = run.cfg.Allow.Reason(*f, "", "")
		}
	}
	reports.AllowConsequences(res.Findings)
}

// timingCodes are the outcomes of one measurement, setMetaData against
// getMetaData: a page load shows at most one of them per campaign.
var timingCodes = map[finding.Code]bool{
	finding.SetMetaDataMissing: true,
	finding.SetMetaDataLate:    true,
	finding.SetMetaDataRace:    true,
}

// contextual reports whether f, a finding of a page load under cond that no
// scenario asserted, is a by-product of its conditions: a load with an
// injected fault or for a logged-out visitor ends as soon as the page has
// reacted, so a token that comes later shows there as missing; the plain
// load (or a scenario asserting on it) says what the timing is.
func contextual(f finding.Finding, cond conditions) bool {
	if cond.fault == "" && !cond.loggedOut {
		return false
	}
	if timingCodes[f.Code] {
		return true
	}
	// a consequence of a contextual finding is contextual too
	return f.CausedBy != "" && timingCodes[f.CausedBy]
}
