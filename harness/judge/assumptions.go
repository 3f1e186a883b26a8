package judge

import (
	"fmt"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
)

// Assumption is one behaviour the reference kit and campaign assume about
// Qualifio's real ones, whose message formats and timings are not public:
// the value used in a run, and the verdicts that rest on it, so that a
// publisher knows what a finding depends on (PROTOCOL.md, "Assumptions").
type Assumption struct {
	Name     string         `json:"name"`
	Value    string         `json:"value"`
	Text     string         `json:"text"`
	Verdicts []finding.Code `json:"verdicts"`
}

// DefaultGetMetaDataDelay is when the reference campaign asks for metadata
// after its iframe loads by default: at once. The real campaign's moment
// is not documented; asking as early as possible is the strictest
// reading of "setMetaData before getMetaData", so that a page that passes
// here passes with a campaign that asks at any later moment.
const DefaultGetMetaDataDelay = 0 * time.Millisecond

// Assumptions lists the assumptions of a run whose campaign asks for
// metadata getMetaDataDelay after its iframe loaded.
func Assumptions(getMetaDataDelay time.Duration) []Assumption {
	return []Assumption{
		{Name: "getmetadata.timing", Value: fmt.Sprintf("%s after the campaign iframe's load event (timing.get_metadata_delay)", getMetaDataDelay),
			Text:     "The campaign asks its parent for the metadata once its iframe has loaded, after this delay; the default (0) is the earliest moment, the strictest reading of the method.",
			Verdicts: []finding.Code{finding.SetMetaDataLate, finding.SetMetaDataRace, finding.SetMetaDataMissing, finding.CampaignBlocked}},
		{Name: "getmetadata.no_answer", Value: "3s",
			Text:     "A campaign that gets no answer from the kit within 3 s of asking treats it as no metadata (blocked, setmetadata.missing).",
			Verdicts: []finding.Code{finding.SetMetaDataMissing, finding.KitMissing, finding.CampaignBlocked}},
		{Name: "setmetadata.divid_element", Value: "accepted (its id is used)",
			Text:     "The kit accepts a DOM element as divId, as Qualifio's own snippet passes a bare identifier; it is reported as a warning, not a failure.",
			Verdicts: []finding.Code{finding.SetMetaDataDivIDNotString}},
		{Name: "token.reverified_after_error", Value: "yes",
			Text:     "After an error, a fresh setMetaData for that campaign is sent to it and verified again (the page's reaction can recover the participant).",
			Verdicts: []finding.Code{finding.CampaignBlocked, finding.PageErrorUnhandled, finding.PageLoggedOutBlocked}},
		{Name: "kit.loaded_twice", Value: "tolerated (the second copy does nothing)",
			Text:     "A page that loads the kit twice keeps the first copy's queue and campaigns.",
			Verdicts: []finding.Code{finding.KitMissing, finding.CampaignNotCreated}},
		{Name: "iframe.url_shape", Value: "https://<host>/<channelType>/<channelGuid>/v1.cfm?id=<channelGuid>",
			Text:     "createIframe puts one iframe from the campaign host with this URL shape into the div; the harness answers the campaign hosts of the profile and Qualifio's loader hosts.",
			Verdicts: []finding.Code{finding.CampaignHostMismatch, finding.CampaignNotCNAME, finding.TokenLeaked}},
		{Name: "timing.resolution", Value: fmt.Sprintf("%.0f ms", ResolutionMs),
			Text:     "setMetaData and getMetaData are stamped in two documents; a token stamped after getMetaData by no more than this is a race, not a proven miss.",
			Verdicts: []finding.Code{finding.SetMetaDataLate, finding.SetMetaDataRace}},
	}
}
