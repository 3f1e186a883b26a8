package demo

import (
	"slices"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/verify"
)

// TestReferenceVerifierAgrees hands each variant's tokens to the project's
// reference verifier, configured from the variant's own profile: the token,
// participant-data and user-info findings must be exactly those the variant
// declares (the page-level codes are the browser harness's to find).
func TestReferenceVerifierAgrees(t *testing.T) {
	s := startDemo(t)
	for _, v := range s.Variants() {
		t.Run(v.Slug, func(t *testing.T) {
			p, err := s.Profile(v.Slug)
			if err != nil {
				t.Fatal(err)
			}
			vf, err := verify.New(t.Context(), verify.ConfigFromProfile(p))
			if err != nil {
				t.Fatal(err)
			}
			var want []finding.Code
			for _, c := range v.Expect {
				if s := string(c); strings.HasPrefix(s, "token.") && c != finding.TokenLeaked || strings.HasPrefix(s, "pii.") || strings.HasPrefix(s, "userinfo.") {
					want = append(want, c)
				}
			}
			for i, tok := range tokensOf(t, s, v) {
				c := v.campaigns()[i]
				r := vf.Verify(t.Context(), tok, verify.Options{CampaignID: c.CampaignID, Campaign: c.DivID})
				var got []finding.Code
				for _, f := range r.Findings {
					if f.Level != finding.Info {
						got = append(got, f.Code)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("campaign %s: the verifier finds %v, the variant declares %v", c.DivID, got, want)
				}
			}
		})
	}
}
