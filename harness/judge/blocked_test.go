package judge

import (
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// What a page's block stops points at the block (caused_by): the root
// cause is said once.
func TestBlockedByPageIsTheCause(t *testing.T) {
	vectors := loadVectors(t)
	for _, name := range []string{"fail_blocked_csp_script_loader.json", "fail_blocked_csp_sandbox_header.json", "fail_blocked_sandboxed_srcdoc.json",
		"fail_blocked_sandboxed_srcdoc_both.json", "fail_blocked_sandboxed_opaque_src.json", "fail_blocked_sandboxed_cross_origin_src.json"} {
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

// A sandbox seen by the top page (the attribute) and reported by the
// frame itself is one finding, the top page's (it names the attribute),
// whatever order the two reports came in; a frame's own report says
// whether the tag cannot run or runs with an opaque origin.
func TestSandboxSaidOnce(t *testing.T) {
	vectors := loadVectors(t)
	for name, says := range map[string]string{
		"fail_blocked_sandboxed_srcdoc_both.json":      `sandbox="allow-forms allow-popups"`,
		"fail_blocked_sandboxed_opaque_src.json":       "without allow-same-origin",
		"fail_blocked_sandboxed_opaque_srcdoc.json":    "(about:srcdoc) sandboxed with allow-scripts",
		"fail_blocked_sandboxed_cross_origin_src.json": "where no script may run",
		"fail_blocked_sandboxed_same_origin_src.json":  "where no script may run",
	} {
		o := vectors[name].Observation
		for _, rev := range []bool{false, true} {
			if rev { // the frame's report first: the same finding
				o.Events = append([]timeline.Event(nil), o.Events...)
				var at []int
				for i, e := range o.Events {
					if e.Event == timeline.PageBlocked {
						at = append(at, i)
					}
				}
				if len(at) == 2 {
					a, b := o.Events[at[0]], o.Events[at[1]]
					o.Events[at[0]].Data, o.Events[at[1]].Data = b.Data, a.Data
				}
			}
			var got []string
			for _, f := range Judge(o).Findings {
				if f.Code == finding.CampaignBlockedByPage {
					got = append(got, f.Message)
				}
			}
			if len(got) != 1 || !strings.Contains(got[0], says) {
				t.Errorf("%s (reversed %v): campaign.blocked_by_page %q, want one saying %q", name, rev, got, says)
			}
		}
	}
}
