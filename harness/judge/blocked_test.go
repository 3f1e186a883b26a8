package judge

import (
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
)

// What a page's block stops points at the block (caused_by): the root
// cause is said once.
func TestBlockedByPageIsTheCause(t *testing.T) {
	vectors := loadVectors(t)
	for _, name := range []string{"fail_blocked_csp_script_loader.json", "fail_blocked_csp_sandbox_header.json", "fail_blocked_sandboxed_srcdoc.json"} {
		v := Judge(vectors[name].Observation)
		n := 0
		for _, f := range v.Findings {
			switch f.Code {
			case finding.CampaignBlockedByPage:
				n++
				if f.CausedBy != "" {
					t.Errorf("%s: the block itself has a cause %s", name, f.CausedBy)
				}
			case finding.KitMissing:
				if f.CausedBy != finding.CampaignBlockedByPage {
					t.Errorf("%s: kit.missing caused by %q, want campaign.blocked_by_page", name, f.CausedBy)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s: %d campaign.blocked_by_page findings, want one", name, n)
		}
	}
}

func TestCSPSandbox(t *testing.T) {
	for policy, want := range map[string]bool{
		"sandbox": true,
		"default-src 'self'; sandbox allow-forms": true,
		"sandbox allow-scripts allow-same-origin": false,
		"frame-src 'self'":                        false,
		"script-src 'self', sandbox allow-popups": true,
		"SANDBOX Allow-Scripts":                   false,
		"":                                        false,
	} {
		if _, got := cspSandbox(policy); got != want {
			t.Errorf("cspSandbox(%q) = %v, want %v", policy, got, want)
		}
	}
}
