package steps

import (
	"testing"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
)

// A page that stops its own campaign is the cause of what follows, ahead
// of the absence findings it explains.
func TestBlockedByPageIsTheFirstCause(t *testing.T) {
	div := "qualifio_insert_place_1"
	res := &harness.Result{
		Campaigns: []harness.Campaign{{DivID: div}},
		Findings: []finding.Finding{
			finding.New(finding.SetMetaDataMissing, "").WithCampaign(div),
			finding.New(finding.CampaignBlocked, "").WithCampaign(div),
			finding.New(finding.CampaignBlockedByPage, "the page removed the campaign's iframe").WithCampaign(div),
		},
	}
	for _, c := range []finding.Code{finding.CampaignMinisite, finding.KitMissing, finding.CampaignNotCreated, finding.SetMetaDataMissing} {
		if causeRank(finding.CampaignBlockedByPage) >= causeRank(c) {
			t.Errorf("campaign.blocked_by_page does not rank before %s as a cause", c)
		}
	}
	finding.Sort(res.Findings)
	assignCauses(res)
	for _, f := range res.Findings {
		if f.Code == finding.CampaignBlocked && f.CausedBy != finding.CampaignBlockedByPage {
			t.Fatalf("campaign.blocked caused by %q, want campaign.blocked_by_page", f.CausedBy)
		}
	}
}
