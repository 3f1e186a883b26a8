package steps

import (
	"slices"
	"testing"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/reports"
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

// A token pushed for the wrong div (the demo's wrong-divid) is one cause:
// the campaign's setmetadata.missing and campaign.blocked follow from
// setmetadata.divid_unknown, "What to fix" lists it once, the token checks
// are blocked by it, and allowing it alone passes the run.
func TestWrongDivIDIsOneCause(t *testing.T) {
	wrong := []finding.Finding{
		finding.New(finding.SetMetaDataDivIDUnknown, `setMetaData named div "qualifio_insert_place_945644"`).WithCampaign(fakeDiv),
		finding.New(finding.SetMetaDataMissing, "no setMetaData for the div").WithCampaign(fakeDiv),
		finding.New(finding.CampaignBlocked, "blocked (setmetadata.missing)").WithCampaign(fakeDiv),
	}
	r := runFake(t, &fakePage{extra: wrong}, Config{Profile: fakeProfile()})
	r.Finalize()
	var causes []reports.Cause
	for _, c := range reports.Causes(r) {
		if c.Finding.Level == finding.Must {
			causes = append(causes, c)
		}
	}
	if len(causes) != 1 || causes[0].Finding.Code != finding.SetMetaDataDivIDUnknown ||
		!slices.Contains(causes[0].Caused, finding.SetMetaDataMissing) || !slices.Contains(causes[0].Caused, finding.CampaignBlocked) {
		t.Fatalf("causes %+v, want setmetadata.divid_unknown leading to setmetadata.missing and campaign.blocked", causes)
	}
	for _, f := range r.Findings {
		if (f.Code == finding.SetMetaDataMissing || f.Code == finding.CampaignBlocked) && f.CausedBy != finding.SetMetaDataDivIDUnknown {
			t.Errorf("%s caused by %q", f.Code, f.CausedBy)
		}
	}

	allow, err := reports.ParseAllow([]byte("- code: setmetadata.divid_unknown\n  reason: the CMS block is fixed in the next release\n"))
	if err != nil {
		t.Fatal(err)
	}
	r = runFake(t, &fakePage{extra: wrong}, Config{Profile: fakeProfile(), Allow: allow})
	allow.Apply(r)
	r.Finalize()
	if r.Verdict != reports.Passed || r.Summary.Failed != 0 || r.Summary.PageLoadsFailed != 0 {
		t.Errorf("with setmetadata.divid_unknown allowed: verdict %s, summary %+v, findings %v", r.Verdict, r.Summary, r.Findings)
	}
}
