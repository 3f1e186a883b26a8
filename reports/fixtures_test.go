package reports

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// Planted secrets: values that a careless producer could put where the
// model is not redacted upstream. No output may contain them unless the run
// is revealed (see TestRedaction).
const (
	plantedPayload = "eyJzdWIiOiJwYXJ0aWNpcGFudC00MiIsImVtYWlsIjoiamFuZS5kb2VAZXhhbXBsZS5vcmcifQ"
	plantedToken   = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0." + plantedPayload + ".c2lnbmF0dXJlLWJ5dGVzLWhlcmU"
	plantedEmail   = "jane.doe@example.org"
	plantedName    = "Janeplantedname"
	plantedAccess  = "at-5f1c2e9a-planted-access-token"
)

var planted = []string{plantedToken, plantedPayload, plantedEmail, plantedName, plantedAccess}

const (
	campA = "qualifio_insert_place_945645"
	campB = "qualifio_insert_place_812003"
)

func started() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }

func ev(t float64, src timeline.Source, name, camp string, data map[string]any) timeline.Event {
	return timeline.Event{TMs: t, Source: src, Event: name, Campaign: camp, Data: data}
}

// happyTimeline is the timeline of a good integration for one campaign.
func happyTimeline(camp string, offset float64) []timeline.Event {
	return []timeline.Event{
		ev(offset+0, timeline.Browser, timeline.Navigation, "", map[string]any{"url": "http://127.0.0.1:41234/contest"}),
		ev(offset+38.2, timeline.Page, timeline.KitRequest, "", map[string]any{"url": "https://files.qualifio.com/kit/qualp.2.min.js"}),
		ev(offset+41.0, timeline.Kit, timeline.KitLoaded, "", nil),
		ev(offset+41.4, timeline.Kit, timeline.Command, camp, map[string]any{"name": "createIframe"}),
		ev(offset+42.1, timeline.Kit, timeline.CreateIframe, camp, map[string]any{"host": "jeux.example.com"}),
		ev(offset+44.9, timeline.Kit, timeline.SetMetaData, camp, map[string]any{"fingerprint": finding.Fingerprint(plantedToken), "type": "JWT"}),
		ev(offset+120.5, timeline.Campaign, timeline.IframeLoaded, camp, nil),
		ev(offset+121.0, timeline.Campaign, timeline.GetMetaData, camp, nil),
		ev(offset+121.3, timeline.Kit, timeline.MetaData, camp, map[string]any{"present": true}),
		ev(offset+135.8, timeline.Verifier, timeline.TokenVerified, camp, map[string]any{"ok": true, "format": "jws"}),
		ev(offset+139.0, timeline.Campaign, timeline.FormPrefilled, camp, map[string]any{"fields": []any{"email", "firstname", "lastname"}}),
	}
}

func happySteps() []Step {
	return []Step{
		{Keyword: "Given", Text: "a logged-in participant", Status: Passed, DurationMs: 12},
		{Keyword: "When", Text: "the contest page loads", Status: Passed, DurationMs: 310},
		{Keyword: "Then", Text: "every campaign receives a valid token before it asks for metadata", Status: Passed, DurationMs: 2},
		{Keyword: "And", Text: "the identification form is prefilled", Status: Passed, DurationMs: 40},
	}
}

func sampleToken(camp string) TokenView {
	return TokenView{
		Campaign: camp, Fingerprint: finding.Fingerprint(plantedToken), Format: "jws", Mode: "inline",
		Header: map[string]any{"alg": "RS256", "kid": "k1", "typ": "JWT"},
		// Claims as a careless producer could leave them: raw values. The
		// writers must fingerprint them unless revealed.
		Claims: map[string]any{
			"iss": "example-media", "sub": "participant-42", "campaignId": "945644",
			"iat": float64(1795514400), "exp": float64(1795514700),
			"form": map[string]any{"email": plantedEmail, "firstname": plantedName, "lastname": "Doe"},
		},
		Fields: []string{"email", "firstname", "lastname"},
	}
}

func passedReport() *Report {
	r := &Report{
		Schema: SchemaID, Tool: Tool{Name: "qualcert", Version: "0.1.0"},
		Profile:   ProfileRef{Name: "Example Media", PageURL: "http://127.0.0.1:41234/contest"},
		StartedAt: started(), DurationMs: 2310,
		Scenarios: []Scenario{
			{Feature: "Identity at campaign load", Name: "A logged-in participant reaches the prefilled form", Tags: []string{"@happy", "@R-FLOW-1"}, Status: Passed, DurationMs: 420, Steps: happySteps(), Timeline: happyTimeline(campA, 0), Tokens: []TokenView{sampleToken(campA)}},
			{Feature: "Timing", Name: "setMetaData comes before getMetaData", Tags: []string{"@timing"}, Status: Passed, DurationMs: 380, Steps: happySteps(), Timeline: happyTimeline(campA, 0)},
			{Feature: "Access token", Name: "The user-info webservice answers", Tags: []string{"@access_token"}, Status: Skipped, SkipReason: "profile token.mode is inline", Steps: []Step{{Keyword: "Given", Text: "a profile in access_token mode", Status: Skipped}}},
		},
		Findings: []finding.Finding{
			finding.New(finding.TokenExpMissing, "").WithCampaign(campA),
		},
	}
	r.Findings[0].Scenario = "A logged-in participant reaches the prefilled form"
	return r
}

func failedReport() *Report {
	late := append(happyTimeline(campA, 0)[:4:4],
		ev(42.1, timeline.Kit, timeline.CreateIframe, campA, nil),
		ev(42.6, timeline.Kit, timeline.CreateIframe, campB, nil),
		ev(118.0, timeline.Campaign, timeline.IframeLoaded, campA, nil),
		ev(119.2, timeline.Campaign, timeline.IframeLoaded, campB, nil),
		ev(120.0, timeline.Campaign, timeline.GetMetaData, campA, nil),
		ev(120.4, timeline.Campaign, timeline.GetMetaData, campB, nil),
		ev(120.6, timeline.Kit, timeline.MetaData, campA, map[string]any{"present": false}),
		ev(121.0, timeline.Campaign, timeline.Blocked, campA, map[string]any{"reason": "no metadata"}),
		ev(121.5, timeline.Campaign, timeline.ErrorMessage, campA, map[string]any{"code": "setmetadata.missing"}),
		ev(960.4, timeline.Kit, timeline.SetMetaData, campA, map[string]any{"token": plantedToken}), // a careless producer
		ev(961.0, timeline.Kit, timeline.SetMetaData, campB, map[string]any{"fingerprint": finding.Fingerprint(plantedToken)}),
		ev(961.2, timeline.Kit, timeline.MetaData, campB, map[string]any{"present": true}),
		ev(975.0, timeline.Verifier, timeline.TokenVerified, campB, map[string]any{"ok": false, "code": "token.expired"}),
		ev(976.0, timeline.Campaign, timeline.ErrorMessage, campB, map[string]any{"code": "token.expired"}),
		ev(1020.0, timeline.Page, timeline.ConsoleError, "", map[string]any{"text": "Uncaught TypeError: cannot read properties of undefined"}),
	)
	r := &Report{
		Schema: SchemaID, Tool: Tool{Name: "qualcert", Version: "0.1.0"},
		Profile:   ProfileRef{Name: "Example Media — two campaigns", PageURL: "http://127.0.0.1:41234/contest?variant=late"},
		StartedAt: started(), DurationMs: 5321,
		Scenarios: []Scenario{
			{ID: "certification/1-identity.feature:12", Feature: "Identity at campaign load", Name: "A logged-in participant reaches the prefilled form", Tags: []string{"@happy"}, Status: Failed, DurationMs: 1310,
				Steps: []Step{
					{Keyword: "Given", Text: "a logged-in participant", Status: Passed, DurationMs: 12},
					{Keyword: "When", Text: "the contest page loads", Status: Passed, DurationMs: 900},
					{Keyword: "Then", Text: "every campaign receives a valid token before it asks for metadata", Status: Failed, DurationMs: 3,
						Error: "setmetadata.late: campaign " + campA + " asked at 120.0 ms, setMetaData came at 960.4 ms with " + plantedToken},
					{Keyword: "And", Text: "the identification form is prefilled", Status: Skipped},
				},
				Timeline: late, Tokens: []TokenView{sampleToken(campB)}},
			{Feature: "Identity at campaign load", Name: "A logged-in participant reaches the prefilled form", Tags: []string{"@happy", "@mobile"}, Status: Passed, DurationMs: 700, Steps: happySteps(), Timeline: happyTimeline(campA, 0)},
			{Feature: "Timing", Name: "Under a slow network setMetaData still wins the race", Tags: []string{"@timing", "@throttled"}, Status: Passed, DurationMs: 2200, Steps: happySteps(),
				Timeline: append([]timeline.Event{ev(0, timeline.Harness, timeline.ThrottleApplied, "", map[string]any{"profile": "Slow 3G", "cpu": 4})}, happyTimeline(campB, 1)...)},
		},
	}
	sc := r.Scenarios[0].Name
	add := func(f finding.Finding, camp, scen string) {
		f.Campaign, f.Scenario = camp, scen
		r.Findings = append(r.Findings, f)
	}
	add(finding.New(finding.SetMetaDataLate, "setMetaData arrived 840 ms after the campaign asked for metadata (payload %s)", plantedPayload), campA, sc)
	add(finding.New(finding.TokenExpired, "token expired 3m12s ago"), campB, sc)
	add(finding.New(finding.CampaignBlocked, "the participant was left on the blocked spinner"), campA, sc)
	add(finding.New(finding.SetMetaDataRace, "setMetaData came only 60 ms before getMetaData under Slow 3G"), campB, "Under a slow network setMetaData still wins the race")
	add(finding.New(finding.PIIUnknownField, "field %q is not a form variable", "nickname"), campB, sc)
	add(finding.New(finding.CampaignCNAMEUnchecked, ""), "", "")
	return r
}

func brokenReport() *Report {
	r := &Report{
		Schema: SchemaID, Tool: Tool{Name: "qualcert", Version: "0.1.0"},
		Profile:   ProfileRef{Name: "Unreachable Media", PageURL: "http://127.0.0.1:9/contest"},
		StartedAt: started(), DurationMs: 20012,
		Scenarios: []Scenario{
			{Feature: "Identity at campaign load", Name: "A logged-in participant reaches the prefilled form", Tags: []string{}, Status: Broken, DurationMs: 20000,
				Steps: []Step{
					{Keyword: "Given", Text: "a logged-in participant", Status: Passed},
					{Keyword: "When", Text: "the contest page loads", Status: Failed, Error: "navigating to http://127.0.0.1:9/contest: net::ERR_CONNECTION_REFUSED"},
				},
				Timeline: []timeline.Event{ev(0, timeline.Browser, timeline.Navigation, "", map[string]any{"url": "http://127.0.0.1:9/contest"}), ev(20000, timeline.Harness, timeline.Timeout, "", nil)}},
			{Feature: "Timing", Name: "setMetaData comes before getMetaData", Status: Skipped, SkipReason: "the page is unreachable"},
		},
	}
	f := finding.New(finding.EnvPageUnreachable, "the page did not load: net::ERR_CONNECTION_REFUSED")
	f.Scenario = r.Scenarios[0].Name
	r.Findings = append(r.Findings, f)
	return r
}

// writePNG draws a small "screenshot" (a page mock with a form) and writes
// it into dir/name.
func writePNG(t testing.TB, dir, name string, w, h int, accent color.RGBA) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{246, 248, 250, 255}
			switch {
			case y < h/8:
				c = accent
			case x > w/6 && x < w*5/6 && y > h/4 && y < h*3/4:
				c = color.RGBA{255, 255, 255, 255}
				if (y-h/4)%(h/10) < 3 {
					c = color.RGBA{208, 215, 222, 255}
				}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// screenshotReport is failedReport with screenshots in dir.
func screenshotReport(t testing.TB, dir string) *Report {
	r := failedReport()
	writePNG(t, dir, "screenshots/s1-blocked.png", 320, 240, color.RGBA{207, 34, 46, 255})
	writePNG(t, dir, "screenshots/s2-form.png", 320, 240, color.RGBA{26, 127, 55, 255})
	r.Scenarios[0].Attachments = []Attachment{
		{Name: "campaign blocked", MediaType: "image/png", Path: "screenshots/s1-blocked.png", Step: "every campaign receives a valid token before it asks for metadata"},
		{Name: "missing.png", MediaType: "image/png", Path: "screenshots/missing.png"},
		{Name: "escape", MediaType: "image/png", Path: "../../etc/passwd"},
	}
	r.Scenarios[1].Attachments = []Attachment{{Name: "prefilled form", MediaType: "image/png", Path: "screenshots/s2-form.png"}}
	return r
}
