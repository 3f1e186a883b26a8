package judge

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
)

// The event-log vectors (testdata/*.json) are run as one table, without a
// browser. A vector is an Observation (what a run saw: conditions, timeline
// events, requests, console) and what the rules must make of it: the exact
// must/should codes, optionally each campaign's outcome and page reaction,
// settle decisions at given clocks, and the verdict at the deadline.
//
// Names: good_* expect no must or should code, fail_* at least one,
// settle_* check the settle rules (and their codes too). demo_* were
// captured from real runs of the demo variants: run the harness with
// QUALCERT_VECTOR_DIR=/some/dir (harness.VectorDirEnv) and every Run writes
// its observation and verdict there as a vector, to review and copy here.
// The others were derived from them by hand, one rule at a time; each says
// why in its comment.

func loadVectors(t testing.TB) map[string]Vector {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no vectors in testdata: %v", err)
	}
	out := map[string]Vector{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		var v Vector
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		out[filepath.Base(p)] = v
	}
	return out
}

func TestVectors(t *testing.T) {
	vectors := loadVectors(t)
	start := time.Now()
	for name, v := range vectors {
		t.Run(strings.TrimSuffix(name, ".json"), func(t *testing.T) {
			switch {
			case strings.HasPrefix(name, "good_") && len(v.Expect) > 0:
				t.Fatalf("a good_ vector expects codes %v", v.Expect)
			case strings.HasPrefix(name, "fail_") && len(v.Expect) == 0:
				t.Fatal("a fail_ vector expects no code")
			case strings.HasPrefix(name, "broken_") != (v.Broken != nil):
				t.Fatal("a broken_ vector, and only it, expects Broken")
			case !strings.HasPrefix(name, "good_") && !strings.HasPrefix(name, "fail_") && !strings.HasPrefix(name, "settle_") && !strings.HasPrefix(name, "broken_"):
				t.Fatal("a vector is named good_*, fail_*, settle_* or broken_*")
			}
			code, why := Broken(v.Observation)
			switch b := v.Broken; {
			case b == nil && code != "":
				t.Fatalf("broken %s (%s), want a verdict (%s)", code, why, v.Comment)
			case b != nil && (code != b.Code || !strings.Contains(why, b.Contains)):
				t.Fatalf("broken %q (%s), want %s containing %q (%s)", code, why, b.Code, b.Contains, v.Comment)
			case b != nil:
				return
			}
			if len(v.Rules) == 0 {
				t.Fatal("the vector names no rule")
			}
			verdict := Judge(v.Observation)
			if got, want := Codes(verdict.Findings), v.Expect; !slices.Equal(got, want) {
				for _, f := range verdict.Findings {
					t.Log(f)
				}
				t.Fatalf("codes = %v, want %v (%s)", got, want, v.Comment)
			}
			for div, want := range v.Campaigns {
				i := slices.IndexFunc(verdict.Campaigns, func(c Campaign) bool { return c.DivID == div })
				if i < 0 {
					t.Fatalf("no campaign %s", div)
				}
				c := verdict.Campaigns[i]
				reaction := c.PageReaction
				if reaction == "" {
					reaction = "-"
				}
				if want.Outcome != "" && c.Outcome != want.Outcome || want.Reaction != "" && reaction != want.Reaction {
					t.Fatalf("campaign %s: outcome %s reaction %s, want %s %s", div, c.Outcome, reaction, want.Outcome, want.Reaction)
				}
			}
			for _, chk := range v.Settle {
				st := Settle(v.Observation, chk.Clock)
				if st.Done != chk.Done || chk.Wake != 0 && st.Wake != chk.Wake {
					t.Fatalf("settle at %+v = %+v, want done=%v wake=%v", chk.Clock, st, chk.Done, chk.Wake)
				}
				if !st.Done && st.Why == "" {
					t.Fatalf("settle at %+v waits without saying why", chk.Clock)
				}
			}
			if d := v.Deadline; d != nil {
				if ok, why := AtDeadline(v.Observation, d.NowMs); ok != d.OK {
					t.Fatalf("at the deadline %v: ok=%v (%s), want %v", d.NowMs, ok, why, d.OK)
				}
				if p := d.Progressing; p != nil && Progressing(v.Observation, d.NowMs) != *p {
					t.Fatalf("at the deadline %v: progressing=%v, want %v", d.NowMs, !*p, *p)
				}
			}
		})
	}
	t.Logf("%d vectors in %s", len(vectors), time.Since(start).Round(time.Millisecond))
}

// judgeCodes are the codes the judge itself emits (the verifier's codes
// pass through a token's verdict: rule token.verdict).
var judgeCodes = []finding.Code{
	finding.KitMissing, finding.CampaignIframeHTML, finding.CampaignNotCreated, finding.CampaignDivMissing,
	finding.CampaignHostMismatch, finding.CampaignNotCNAME, finding.CampaignMinisite,
	finding.SetMetaDataMissing, finding.SetMetaDataLate, finding.SetMetaDataRace, finding.SetMetaDataBadType,
	finding.SetMetaDataDivIDUnknown, finding.SetMetaDataDivIDMissing, finding.SetMetaDataDivIDNotString,
	finding.SetMetaDataTokenNotString, finding.CampaignBlocked, finding.PageErrorUnhandled,
	finding.PageLoggedOutBlocked, finding.TokenLeaked, finding.PageHarnessTampered, finding.CampaignBlockedByPage,
	finding.TokenLeakUnchecked,
}

// Every code the judge emits is expected by a failing vector, and every
// rule has a good and a failing vector (a settle rule: a check that ends
// the run and one that keeps it waiting).
func TestVectorsCoverEveryRule(t *testing.T) {
	vectors := loadVectors(t)
	expected := map[finding.Code]bool{}
	good, fail := map[string]bool{}, map[string]bool{}
	for name, v := range vectors {
		for _, c := range v.Expect {
			expected[c] = true
		}
		for _, rule := range v.Rules {
			switch {
			case strings.HasPrefix(name, "good_"):
				good[rule] = true
			case strings.HasPrefix(name, "fail_"), strings.HasPrefix(name, "broken_"):
				fail[rule] = true
			}
			for _, chk := range v.Settle {
				if chk.Done {
					good[rule] = true
				} else {
					fail[rule] = true
				}
			}
			if d := v.Deadline; d != nil && strings.HasPrefix(name, "settle_") {
				if d.OK {
					good[rule] = true
				} else {
					fail[rule] = true
				}
			}
		}
	}
	for _, c := range judgeCodes {
		if !expected[c] {
			t.Errorf("no vector expects %s", c)
		}
		if !good[string(c)] || !fail[string(c)] {
			t.Errorf("rule %s: good vector %v, failing vector %v", c, good[string(c)], fail[string(c)])
		}
	}
	for rule := range fail {
		if !good[rule] {
			t.Errorf("rule %s has failing vectors and no good one", rule)
		}
	}
	for rule := range good {
		if !fail[rule] {
			t.Errorf("rule %s has good vectors and no failing one", rule)
		}
	}
	// The info code the judge emits for pages on an IP address.
	v := Judge(vectors["good_demo_jws_inline.json"].Observation)
	if !finding.Has(v.Findings, finding.CampaignCNAMEUnchecked) {
		t.Error("a page on 127.0.0.1 gives no campaign.cname_unchecked")
	}
}

func BenchmarkVectors(b *testing.B) {
	vectors := loadVectors(b)
	for b.Loop() {
		for _, v := range vectors {
			Judge(v.Observation)
			for _, chk := range v.Settle {
				Settle(v.Observation, chk.Clock)
			}
		}
	}
}
