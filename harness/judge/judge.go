// Package judge turns what a certification run observed into campaigns and
// findings, and decides when a run has seen enough. It does no I/O: every
// rule is a function of one value, an [Observation] (the profile's
// expectations, the scenario's conditions, the timeline events, which carry
// each token's verdict per campaign iframe, the page's requests and console
// lines), so that every rule is tested by event-log vectors, without a
// browser:
//
//	v := judge.Judge(obs)          // v.Campaigns, v.Findings, v.Notes
//	st := judge.Settle(obs, clock) // done? why? when to look again?
//
// The rules are written down in harness/kit/PROTOCOL.md ("Judgement rules",
// "When a run ends", "What counts as a page reaction"); testdata/*.json are
// the vectors (see vectors_test.go for their format and how to capture one
// from a real run with QUALCERT_VECTOR_DIR).
//
// The event payloads are read through package observe's typed decoders,
// never under string keys.
package judge

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/timeline"
	"golang.org/x/net/publicsuffix"
)

// CampaignSpec is one campaign the profile expects on the page.
type CampaignSpec struct {
	DivID      string `json:"div_id"`
	Host       string `json:"host"`
	CampaignID string `json:"campaign_id,omitempty"`
}

// Conditions are the scenario's conditions that change what is judged.
type Conditions struct {
	LoggedOut bool         `json:"logged_out,omitempty"` // no cookies, no login
	Throttled bool         `json:"throttled,omitempty"`  // CPU and network emulated slow
	Fault     finding.Code `json:"fault,omitempty"`      // the campaign reports this error whatever the token
	ObserveMs float64      `json:"observe_ms,omitempty"` // bound on waiting for a page's reaction; 0 = DefaultObserveMs
	LiveKit   bool         `json:"live_kit,omitempty"`   // observe mode: the real Qualifio kit, no interception
	SettleMs  float64      `json:"settle_ms,omitempty"`  // quiet window; 0 = DefaultSettleMs
	// KitWaitMs bounds, after the page's load event, the wait for the kit
	// while the page shows signs of a campaign (profile timing.kit_wait);
	// 0 = DefaultKitWaitMs.
	KitWaitMs float64 `json:"kit_wait_ms,omitempty"`
}

// Request is one request the page sent (for the leak check).
type Request struct {
	URL     string `json:"url"`
	Referer string `json:"referer,omitempty"`
	Body    string `json:"body,omitempty"`
}

// Observation is everything a run saw, as the judge reads it.
type Observation struct {
	Scenario   string         `json:"scenario,omitempty"`
	PageURL    string         `json:"page_url"`
	Campaigns  []CampaignSpec `json:"campaigns"`
	Conditions Conditions     `json:"conditions"`
	// NavStart is the recorder time of the scenario's own navigation:
	// navigations and loads before it belong to the login.
	NavStart float64          `json:"nav_start"`
	Events   []timeline.Event `json:"events"`
	// Tokens are the raw tokens seen in the page, by fingerprint, with the
	// div of their first setMetaData: only the leak check reads them.
	Tokens    map[string]string `json:"tokens,omitempty"`
	TokenDivs map[string]string `json:"token_divs,omitempty"`
	Requests  []Request         `json:"requests,omitempty"`
	Console   []string          `json:"console,omitempty"`
}

// Outcome of a campaign's flow as the reference campaign saw it.
const (
	OutcomePrefilled = "prefilled"
	OutcomeBlocked   = "blocked"
	OutcomeNone      = "none" // the campaign never got to ask (no iframe)
)

// Campaign is what happened to one campaign of the profile: to its live
// iframe, the last one the kit created for its div.
type Campaign struct {
	DivID         string  `json:"div_id"`
	Created       bool    `json:"created"`
	Host          string  `json:"host,omitempty"`
	Frame         int     `json:"frame,omitempty"` // the live iframe's number (0: unknown)
	SetMetaDataMs float64 `json:"set_metadata_ms"` // first setMetaData for the div, -1 if none
	GetMetaDataMs float64 `json:"get_metadata_ms"` // the live iframe's getMetaData, -1 if none
	MarginMs      float64 `json:"margin_ms"`       // get − set; negative when late
	Outcome       string  `json:"outcome"`
	ErrorCode     string  `json:"error_code,omitempty"`
	PageReaction  string  `json:"page_reaction,omitempty"`
	// Token is the verdict on the first token the live iframe received.
	Token *observe.TokenVerifiedData `json:"token,omitempty"`
}

// Note is an event the judgement adds to the timeline (a judged reaction, a
// leak), for the harness to record.
type Note struct {
	Source   timeline.Source
	Event    string
	Campaign string
	Data     any
}

// Verdict is the judgement of one observation.
type Verdict struct {
	Campaigns []Campaign
	Findings  []finding.Finding
	Notes     []Note
}

// Defaults of the conditions.
const (
	// DefaultObserveMs bounds the wait for a page's reaction to a campaign
	// error: the run ends as soon as one is seen, so a generous bound costs
	// only pages that never react.
	DefaultObserveMs = 5000.0
	// DefaultSettleMs is how long a loaded page may stay quiet before the
	// run concludes that nothing more will come.
	DefaultSettleMs = 1500.0
	// DefaultKitWaitMs is how long after the load event a run waits for the
	// kit while the page shows signs of a campaign (a lazy loader's 3.5 s
	// timer fallback, a client-side route on a slow device); the profile's timing.kit_wait raises it.
	DefaultKitWaitMs = 8000.0
	// RaceMarginMs is the minimal comfortable margin between setMetaData
	// and getMetaData.
	RaceMarginMs = 200.0
	// ResolutionMs is what the timing measurement can resolve between a
	// setMetaData (stamped in the publisher's document) and a getMetaData
	// (stamped in the campaign iframe's document). Each stamp is
	// performance.timeOrigin + performance.now() of its own document:
	// Chromium coarsens both terms to 100 µs (without cross-origin
	// isolation) and each document converts its monotonic clock to epoch
	// time with its own clock reading; the recorder then rounds each stamp
	// to 0.1 ms. Two such stamps compare to within 2 × (0.1 + 0.1 + 0.1) ms
	// plus the two documents' conversion offsets; 2 ms bounds the whole. A
	// token stamped after getMetaData by no more than this is a race, not
	// a proven miss.
	ResolutionMs = 2.0
)

func (c Conditions) observe() float64 {
	if c.ObserveMs > 0 {
		return c.ObserveMs
	}
	return DefaultObserveMs
}

func (c Conditions) kitWait() float64 {
	if c.KitWaitMs > 0 {
		return c.KitWaitMs
	}
	return DefaultKitWaitMs
}

func (c Conditions) settle() float64 {
	if c.SettleMs > 0 {
		return c.SettleMs
	}
	return DefaultSettleMs
}

// only returns the single campaign's div, or "" with several.
func (o *Observation) only() string {
	if len(o.Campaigns) == 1 {
		return o.Campaigns[0].DivID
	}
	return ""
}

func (o *Observation) spec(div string) (CampaignSpec, bool) {
	for _, c := range o.Campaigns {
		if c.DivID == div {
			return c, true
		}
	}
	return CampaignSpec{}, false
}

func (o *Observation) campaignHost(h string) bool {
	h = strings.ToLower(h)
	for _, c := range o.Campaigns {
		if strings.ToLower(c.Host) == h {
			return true
		}
	}
	return false
}

// Judge applies the judgement rules to an observation.
func Judge(o Observation) Verdict {
	var v Verdict
	if o.Conditions.LiveKit {
		v = judgeLive(o)
	} else {
		v = judgeKit(o)
	}
	v.Findings = append(v.Findings, judgeTamper(o)...)
	leaks, notes := judgeLeaks(o)
	v.Findings = append(v.Findings, leaks...)
	if len(leaks) == 0 {
		v.Findings = append(v.Findings, judgeLeakUnchecked(o)...)
	}
	v.Notes = append(v.Notes, notes...)
	for i := range v.Findings {
		v.Findings[i].Scenario = o.Scenario
	}
	v.Findings = dedupe(v.Findings)
	return v
}

type judgement struct {
	o   *Observation
	out []finding.Finding
}

func (j *judgement) add(code finding.Code, campaign, format string, args ...any) {
	f := finding.New(code, format, args...)
	f.Campaign = campaign
	j.out = append(j.out, f)
}

// frameOf reads the iframe number of a campaign-side event (0 when absent).
func frameOf(e timeline.Event) int {
	if n, ok := e.Data["frame"].(float64); ok {
		return int(n)
	}
	if n, ok := e.Data["frame"].(int); ok {
		return n
	}
	return 0
}

// liveCreate returns the createIframe that made the div's live iframe: the
// last one that found its div (a div removed and mounted again gets a new
// iframe; the old one is gone with its div), else the last attempt.
func liveCreate(evs []timeline.Event, div string) (timeline.Event, bool) {
	creates := timeline.Find(evs, timeline.CreateIframe, div)
	for i := len(creates) - 1; i >= 0; i-- {
		if observe.Decode[observe.CreateIframeData](creates[i]).Found {
			return creates[i], true
		}
	}
	if len(creates) > 0 {
		return creates[len(creates)-1], true
	}
	return timeline.Event{}, false
}

// inFrame reports whether a campaign-side event belongs to the live iframe.
func inFrame(e timeline.Event, frame int) bool {
	return frame == 0 || frameOf(e) == 0 || frameOf(e) == frame
}

// firstIn returns the first event named name of div's live iframe, at or
// after from (the live iframe's createIframe).
func firstIn(evs []timeline.Event, name, div string, frame int, from float64) (timeline.Event, bool) {
	for _, e := range evs {
		if e.Event == name && e.Campaign == div && inFrame(e, frame) && e.TMs >= from {
			return e, true
		}
	}
	return timeline.Event{}, false
}

// kitEvidence is what the timeline says about the loader and the kit.
type kitEvidence struct {
	ran        bool     // the reference kit started
	requested  []string // loader URLs the harness answered
	otherLoads []string // loader-looking URLs the page requested that the harness did not answer
	queued     []timeline.Event
	iframes    []observe.IframeData // plain iframes to a Qualifio or campaign host
	loadedURL  string               // the URL the page ended on
	refused    []string             // loader URLs the page's own CSP refused (campaign.blocked_by_page says how)
}

func gatherKit(o *Observation) kitEvidence {
	var k kitEvidence
	answered := map[string]bool{}
	for _, e := range o.Events {
		switch e.Event {
		case timeline.KitLoaded:
			k.ran = true
		case timeline.KitRequest:
			u := observe.Decode[observe.KitRequestData](e).URL
			answered[u] = true
			k.requested = append(k.requested, u)
		case timeline.Command:
			if e.Source == timeline.Page {
				k.queued = append(k.queued, e)
			}
		case timeline.PageIframe:
			f := observe.Decode[observe.IframeData](e)
			if isQualifioHost(f.Host) || o.campaignHost(f.Host) {
				k.iframes = append(k.iframes, f)
			}
		case timeline.Navigation:
			n := observe.Decode[observe.NavigationData](e)
			if e.TMs >= o.NavStart && n.Phase != "login" && n.URL != "" {
				k.loadedURL = n.URL
			}
		case timeline.PageBlocked:
			if d := observe.Decode[observe.BlockedData](e); d.How == observe.BlockedCSP && !d.ReportOnly && looksLikeLoader(d.BlockedURL) {
				k.refused = append(k.refused, d.BlockedURL)
			}
		}
	}
	for _, r := range o.Requests {
		if looksLikeLoader(r.URL) && !answered[r.URL] {
			k.otherLoads = append(k.otherLoads, r.URL)
		}
	}
	return k
}

// looksLikeLoader reports whether a URL has the shape of a Qualifio loader
// on any host (*/kit/qualp*.js).
func looksLikeLoader(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	i := strings.LastIndex(u.Path, "/kit/qualp")
	return i >= 0 && strings.HasSuffix(u.Path, ".js")
}

// commandNames describes queued commands: "createIframe (div a), setMetaData".
func commandNames(cmds []timeline.Event) string {
	var parts []string
	seen := map[string]bool{}
	for _, e := range cmds {
		c := observe.Decode[observe.CommandData](e)
		s := c.Name
		if s == "" {
			s = "an unnamed command"
		}
		if e.Campaign != "" {
			s += " (div " + e.Campaign + ")"
		}
		if !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	if len(parts) > 4 {
		parts = append(parts[:4], fmt.Sprintf("%d more", len(parts)-4))
	}
	return strings.Join(parts, ", ")
}

func judgeKit(o Observation) Verdict {
	j := &judgement{o: &o}
	evs := o.Events
	cond := o.Conditions
	judged := !cond.LoggedOut // token and setMetaData findings
	only := o.only()
	pageHost := hostOf(o.PageURL)
	if isQualifioHost(pageHost) {
		j.add(finding.CampaignMinisite, "", "the page %s is served from a Qualifio host: certify the publisher's own page", pageHost)
	}
	k := gatherKit(&o)
	for _, f := range k.iframes {
		j.add(finding.CampaignIframeHTML, "", "the page embeds a plain <iframe> from %s%s (the Iframe-HTML channel), which cannot receive setMetaData", f.Host, f.Path)
	}
	if !k.ran && !cond.LoggedOut {
		j.add(finding.KitMissing, "", "%s", kitMissingMessage(k))
	}

	// setMetaData calls: routing and argument checks.
	firstSet := map[string]float64{}
	var sets []setCall
	for _, e := range timeline.Find(evs, timeline.SetMetaData, "") {
		d := observe.Decode[observe.SetMetaDataData](e)
		div := e.Campaign
		if d.DivKind == "missing" {
			div = only
			if judged {
				// CONTRACT §4: should with one campaign (the token still
				// reaches it), must with several (it cannot be routed).
				if only != "" {
					j.out = append(j.out, finding.New(finding.SetMetaDataDivIDMissing,
						"setMetaData was called without a divId; with one campaign it was routed to %s", only).
						WithCampaign(only).WithLevel(finding.Should))
				} else {
					j.out = append(j.out, finding.New(finding.SetMetaDataDivIDMissing,
						"setMetaData was called without a divId on a page with %d campaigns", len(o.Campaigns)).
						WithLevel(finding.Must))
				}
			}
		} else if d.DivKind != "string" && judged {
			j.add(finding.SetMetaDataDivIDNotString, div, "setMetaData got a divId that is not a string (%s); pass the id as a string", d.DivKind)
		}
		if _, ok := o.spec(div); !ok {
			if judged && d.DivKind != "missing" {
				att := only
				if att == "" {
					att = div
				}
				j.add(finding.SetMetaDataDivIDUnknown, att, "setMetaData named div %q, which is not a campaign of the page", div)
			}
			continue
		}
		if judged {
			if t, _ := d.Type.(string); t != "JWT" {
				j.add(finding.SetMetaDataBadType, div, "setMetaData's second argument is %s, not exactly 'JWT'", describe(d.Type))
			}
			if tt := d.TokenType; tt != "string" && tt != "null" && tt != "undefined" {
				j.add(finding.SetMetaDataTokenNotString, div, "setMetaData's token is a %s, not a string", tt)
			}
		}
		if _, ok := firstSet[div]; !ok {
			firstSet[div] = e.TMs
		}
		sets = append(sets, setCall{div: div, t: e.TMs})
	}

	var camps []Campaign
	var notes []Note
	for _, pc := range o.Campaigns {
		div := pc.DivID
		c := Campaign{DivID: div, SetMetaDataMs: -1, GetMetaDataMs: -1, Outcome: OutcomeNone}
		create, hasCreate := liveCreate(evs, div)
		if hasCreate {
			cd := observe.Decode[observe.CreateIframeData](create)
			c.Host, c.Created, c.Frame = cd.Host, cd.Found, cd.Frame
			if !c.Created {
				j.add(finding.CampaignDivMissing, div, "createIframe names div %q but the page has no such element when the kit runs", div)
			}
			if !strings.EqualFold(c.Host, pc.Host) {
				j.add(finding.CampaignHostMismatch, div, "createIframe uses host %q, the profile says %q", c.Host, pc.Host)
			}
			switch {
			case pageHost == "localhost" || net.ParseIP(pageHost) != nil:
				j.add(finding.CampaignCNAMEUnchecked, div, "the page is on %s: the campaign host %s cannot be checked against a registrable domain", pageHost, c.Host)
			case !underDomain(strings.ToLower(c.Host), registrable(pageHost)):
				j.add(finding.CampaignNotCNAME, div, "campaign host %s is not under the page's domain %s", c.Host, registrable(pageHost))
			}
		} else if k.ran && !cond.LoggedOut {
			msg := fmt.Sprintf("the kit ran and no createIframe named div %s", div)
			if others := createdDivs(evs); len(others) > 0 {
				msg += fmt.Sprintf(" (createIframe was called for %s)", strings.Join(others, ", "))
			}
			j.add(finding.CampaignNotCreated, div, "%s", msg)
		}
		set, hasSet := firstSet[div]
		if hasSet {
			c.SetMetaDataMs = set
		}
		from := -1e18
		if hasCreate {
			from = create.TMs
		}
		get, hasGet := firstIn(evs, timeline.GetMetaData, div, c.Frame, from)
		if hasGet {
			c.GetMetaDataMs = get.TMs
		}
		if hasSet && hasGet {
			c.MarginMs = get.TMs - set
		}
		if judged && hasGet {
			j.timing(evs, div, c.Frame, set, hasSet, get, create, hasCreate, only, from)
		}
		// Token findings: those of the first token the live iframe received.
		if tv, ok := firstIn(evs, timeline.TokenVerified, div, c.Frame, from); ok {
			d := observe.Decode[observe.TokenVerifiedData](tv)
			c.Token = &d
			if judged {
				for _, f := range tokenFindings(d) {
					f.Campaign = div
					j.out = append(j.out, f)
				}
			}
		}
		// Outcome: the last of prefilled/blocked of the live iframe.
		var firstErr *timeline.Event
		for i, e := range evs {
			if e.Campaign != div || !inFrame(e, c.Frame) || e.TMs < from {
				continue
			}
			switch e.Event {
			case timeline.FormPrefilled:
				c.Outcome = OutcomePrefilled
			case timeline.Blocked:
				c.Outcome = OutcomeBlocked
			case timeline.ErrorMessage:
				c.ErrorCode = observe.Decode[observe.OutcomeData](e).Code
				if firstErr == nil {
					firstErr = &evs[i]
				}
			}
		}
		if c.Outcome == OutcomeBlocked && cond.Fault == "" && !cond.LoggedOut {
			j.add(finding.CampaignBlocked, div, "the participant ended on the blocked spinner (%s)", orNone(c.ErrorCode))
		}
		// Page reaction to the first error message.
		if firstErr != nil {
			c.PageReaction, _ = Reaction(evs, div, only, firstErr.TMs)
			if c.PageReaction != "" {
				notes = append(notes, Note{Source: timeline.Page, Event: timeline.PageReaction, Campaign: div,
					Data: observe.DOMData{Kind: c.PageReaction, Judged: true}})
			}
			switch {
			case cond.Fault != "" && c.PageReaction == "":
				j.add(finding.PageErrorUnhandled, div, "the campaign reported %s and the page showed no reaction that helps the participant within %s",
					orNone(c.ErrorCode), msString(cond.observe()))
			case cond.LoggedOut && c.Outcome == OutcomeBlocked && c.PageReaction == "":
				j.add(finding.PageLoggedOutBlocked, div, "a logged-out visitor is left on the blocked spinner (%s) with no login prompt", orNone(c.ErrorCode))
			}
		}
		camps = append(camps, c)
	}
	return Verdict{Campaigns: camps, Findings: judgeBlocked(&o, k, j.out), Notes: notes}
}

type setCall struct {
	div string
	t   float64
}

// kitMissingMessage names the evidence: what was requested, queued or
// embedded, and the URL the page ended on.
func kitMissingMessage(k kitEvidence) string {
	page := ""
	if k.loadedURL != "" {
		page = " (page " + k.loadedURL + ")"
	}
	switch {
	case len(k.refused) > 0:
		return fmt.Sprintf("the page's Content-Security-Policy refused the loader %s, so no kit ran%s", k.refused[0], page)
	case len(k.requested) > 0:
		return fmt.Sprintf("the loader %s was requested and answered with the reference kit, but the kit never ran in the page%s", k.requested[0], page)
	case len(k.otherLoads) > 0:
		return fmt.Sprintf("the page requested %s, a loader on a host the harness does not answer (not a Qualifio loader host nor a campaign host of the profile), and no kit ran%s", k.otherLoads[0], page)
	case len(k.queued) > 0:
		return fmt.Sprintf("commands were queued on _qual_async (%s) but no loader ran%s", commandNames(k.queued), page)
	case len(k.iframes) > 0:
		return fmt.Sprintf("no Qualifio loader ran; the campaign is a plain iframe from %s%s", k.iframes[0].Host, page)
	}
	return fmt.Sprintf("the page loaded and no Qualifio loader (files.qualifio.com/kit/qualp*.js) was requested%s", page)
}

// createdDivs lists the divs the kit got a createIframe for.
func createdDivs(evs []timeline.Event) []string {
	var out []string
	seen := map[string]bool{}
	for _, e := range timeline.Find(evs, timeline.CreateIframe, "") {
		if !seen[e.Campaign] {
			seen[e.Campaign] = true
			out = append(out, fmt.Sprintf("%q", e.Campaign))
		}
	}
	return out
}

// timing applies the setMetaData timing rules (PROTOCOL.md, "setMetaData
// timing").
func (j *judgement) timing(evs []timeline.Event, div string, frame int, set float64, hasSet bool, get, create timeline.Event, hasCreate bool, only string, from float64) {
	cond := j.o.Conditions
	if !hasSet {
		j.add(finding.SetMetaDataMissing, div, "the campaign asked for metadata and no setMetaData for %s came", div)
		return
	}
	if set > get.TMs {
		gap := set - get.TMs
		// What the campaign actually received: the kit's answer carried the
		// token when the ask was still in flight as the token came.
		answered, hasAnswer := firstIn(evs, timeline.MetaData, div, frame, from)
		carried := hasAnswer && answered.TMs >= get.TMs && observe.Decode[observe.MetaDataData](answered).HasMeta
		switch {
		case cond.Throttled:
			j.add(finding.SetMetaDataRace, div, "under throttling, setMetaData arrived %.0f ms after the campaign asked for metadata", gap)
		case carried:
			j.add(finding.SetMetaDataRace, div, "setMetaData was stamped %.1f ms after the campaign asked for metadata, but the kit's answer still carried it: the token won by the time the request took to cross", gap)
		case gap <= ResolutionMs:
			j.add(finding.SetMetaDataRace, div, "setMetaData came %.1f ms after the campaign asked for metadata, within the %.0f ms the measurement can resolve", gap, ResolutionMs)
		default:
			j.add(finding.SetMetaDataLate, div, "setMetaData arrived %.0f ms after the campaign asked for metadata, and the campaign got no metadata", gap)
		}
		return
	}
	if hasCreate && set >= create.TMs && get.TMs-set < RaceMarginMs && !queuedBeforeKit(evs, div, only) {
		j.add(finding.SetMetaDataRace, div, "setMetaData came only %.0f ms before the campaign asked for metadata", get.TMs-set)
	}
}

// tokenFindings are the verifier's findings of a verdict event (or, for a
// timeline that carries only codes, findings built from them).
func tokenFindings(d observe.TokenVerifiedData) []finding.Finding {
	if len(d.Findings) > 0 {
		return append([]finding.Finding(nil), d.Findings...)
	}
	var out []finding.Finding
	for _, c := range d.Codes {
		if _, ok := finding.Lookup(finding.Code(c)); ok {
			out = append(out, finding.New(finding.Code(c), ""))
		}
	}
	return out
}

// judgeLive judges an observe-mode run (the real Qualifio kit, no
// interception): only what the recorder saw in the page can be judged, the
// queue commands and the leaks; the campaign side is Qualifio's own.
func judgeLive(o Observation) Verdict {
	var out []finding.Finding
	var cmds []timeline.Event
	for _, e := range timeline.Find(o.Events, timeline.Command, "") {
		if e.Source == timeline.Page {
			cmds = append(cmds, e)
		}
	}
	if len(cmds) == 0 && !o.Conditions.LoggedOut {
		out = append(out, finding.New(finding.KitMissing, "no _qual_async command was pushed by the page"))
	}
	var camps []Campaign
	for _, pc := range o.Campaigns {
		c := Campaign{DivID: pc.DivID, SetMetaDataMs: -1, GetMetaDataMs: -1, Outcome: OutcomeNone}
		for _, e := range cmds {
			if e.Campaign != pc.DivID {
				continue
			}
			cd := observe.Decode[observe.CommandData](e)
			switch cd.Name {
			case "createIframe":
				if !c.Created {
					c.Created = true
					if len(cd.Args) > 2 {
						c.Host, _ = cd.Args[2].(string)
					}
				}
			case "setMetaData":
				if c.SetMetaDataMs < 0 {
					c.SetMetaDataMs = e.TMs
				}
			}
		}
		if !c.Created && len(cmds) > 0 && !o.Conditions.LoggedOut {
			out = append(out, finding.New(finding.CampaignNotCreated, "no createIframe was pushed for div %s (pushed: %s)", pc.DivID, commandNames(cmds)).WithCampaign(pc.DivID))
		}
		camps = append(camps, c)
	}
	return Verdict{Campaigns: camps, Findings: out}
}

// queuedBeforeKit reports whether the page pushed a setMetaData for div
// into the queue before the kit took it over: the kit then replays it with
// the createIframe, so it cannot race.
func queuedBeforeKit(evs []timeline.Event, div, only string) bool {
	for _, e := range timeline.Find(evs, timeline.SetMetaData, "") {
		if observe.Decode[observe.SetMetaDataData](e).Queued && (e.Campaign == div || (e.Campaign == "" && only == div)) {
			return true
		}
	}
	for _, e := range timeline.Find(evs, timeline.Command, "") {
		if e.Source != timeline.Page {
			continue
		}
		c := observe.Decode[observe.CommandData](e)
		if c.Name != "setMetaData" || c.How != "queued" {
			continue
		}
		if e.Campaign == div || (e.Campaign == "" && only == div) {
			return true
		}
	}
	return false
}

// judgeLeaks finds the tokens (or their payload segment) in requests to
// hosts other than the campaign hosts and the Qualifio loader, and in
// console messages.
func judgeLeaks(o Observation) ([]finding.Finding, []Note) {
	var requests []Request
	for _, q := range o.Requests {
		u, err := url.Parse(q.URL)
		// The loader's own URL counts: a token in it is sent to Qualifio's
		// file server, not to the campaign.
		if err != nil || o.campaignHost(u.Hostname()) {
			continue
		}
		requests = append(requests, q)
	}
	var out []finding.Finding
	var notes []Note
	fps := make([]string, 0, len(o.Tokens))
	for fp := range o.Tokens {
		fps = append(fps, fp)
	}
	sort.Strings(fps)
	for _, fp := range fps {
		needles := leakNeedles(o.Tokens[fp])
		if len(needles) == 0 {
			continue
		}
		where := ""
		for _, q := range requests {
			dec, _ := url.QueryUnescape(q.URL)
			switch {
			case containsAny(q.URL, needles) || containsAny(dec, needles):
				where = "the URL of a request to " + hostOf(q.URL)
			case containsAny(q.Referer, needles):
				where = "the Referer of a request to " + hostOf(q.URL)
			case containsAny(q.Body, needles):
				where = "the body of a request to " + hostOf(q.URL)
			}
			if where != "" {
				break
			}
		}
		if where == "" {
			for _, c := range o.Console {
				if containsAny(c, needles) {
					where = "the console"
					break
				}
			}
		}
		if where == "" {
			continue
		}
		div := o.TokenDivs[fp]
		notes = append(notes, Note{Source: timeline.Browser, Event: timeline.TokenLeak, Campaign: div,
			Data: map[string]any{"fingerprint": fp, "where": where}})
		out = append(out, finding.New(finding.TokenLeaked, "the token %s appears in %s", fp, where).WithCampaign(div))
	}
	return out, notes
}

// isLoader reports whether u is a Qualifio loader URL on a Qualifio host.
func isLoader(u *url.URL) bool {
	h := strings.ToLower(u.Hostname())
	if h != "files.qualifio.com" && !strings.HasSuffix(h, ".qualifioapp.com") {
		return false
	}
	return strings.HasPrefix(u.Path, "/kit/qualp") && strings.HasSuffix(u.Path, ".js")
}

// leakNeedles are the strings whose presence means the token leaked: the
// token itself and its payload segment (JWS) or ciphertext (JWE), when long
// enough not to match by chance.
func leakNeedles(tok string) []string {
	var out []string
	if len(tok) >= 16 {
		out = append(out, tok)
	}
	parts := strings.Split(tok, ".")
	var seg string
	switch len(parts) {
	case 3:
		seg = parts[1]
	case 5:
		seg = parts[3]
	}
	if len(seg) >= 16 {
		out = append(out, seg)
	}
	return out
}

func containsAny(s string, needles []string) bool {
	if s == "" {
		return false
	}
	for _, n := range needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}

// dedupe keeps the first finding of each code and campaign.
func dedupe(fs []finding.Finding) []finding.Finding {
	seen := map[string]bool{}
	var out []finding.Finding
	for _, f := range fs {
		k := string(f.Code) + "\x00" + f.Campaign
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

func orNone(code string) string {
	if code == "" {
		return "no error code"
	}
	return code
}

func msString(ms float64) string {
	if ms >= 1000 && int(ms)%1000 == 0 {
		return fmt.Sprintf("%ds", int(ms)/1000)
	}
	return fmt.Sprintf("%.0fms", ms)
}

func describe(v any) string {
	switch t := v.(type) {
	case string:
		return fmt.Sprintf("%q", t)
	case nil:
		return "null"
	case map[string]any:
		if k, ok := t["__t"].(string); ok {
			return "a " + k
		}
	}
	return fmt.Sprintf("%v", v)
}

func isQualifioHost(h string) bool {
	h = strings.ToLower(h)
	for _, d := range []string{"qualifio.com", "qualifioapp.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// hostOf returns the lower-case host of a URL ("" when unparsable).
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}

// registrable returns the registrable domain of host (eTLD+1) from the
// Public Suffix List compiled into golang.org/x/net/publicsuffix, so that
// jeux.example.co.uk belongs to example.co.uk and a page on a private suffix
// (myshop.github.io) is not taken to share a site with every other.
func registrable(host string) string {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host // host is itself a public suffix: only itself is on its site
	}
	return d
}

func underDomain(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// judgeTamper turns the recorder's page.tampered observations into one
// page.harness_tampered finding for the page, saying every way it
// interfered (PROTOCOL.md, "Observed from outside the page's reach"),
// attributed to the first campaign concerned. It is never excused: not by a
// logged-out visitor, a fault or the live kit.
func judgeTamper(o Observation) []finding.Finding {
	var ways []string
	campaign := ""
	seen := map[string]bool{}
	for _, e := range timeline.Find(o.Events, timeline.Tampered, "") {
		d := observe.Decode[observe.TamperData](e)
		if campaign == "" {
			campaign = e.Campaign
		}
		var way string
		switch d.What {
		case observe.TamperSwallowed:
			way = fmt.Sprintf("a listener of the page stopped the campaign's %s message (Qualifio's kit would not have seen it)", orNone(d.Name))
		case observe.TamperForged:
			way = fmt.Sprintf("the page dispatched a %s message of its own making, as if the campaign had sent it", orNone(d.Name))
		case observe.TamperEmitter:
			way = fmt.Sprintf("the page called the harness's emitter %s (a forged observation)", orNone(d.Name))
		default:
			way = fmt.Sprintf("the page interfered with the harness (%s)", orNone(d.What))
		}
		if !seen[way] {
			seen[way] = true
			ways = append(ways, way)
		}
	}
	if len(ways) == 0 {
		return nil
	}
	j := &judgement{o: &o}
	j.add(finding.PageHarnessTampered, campaign, "%s", strings.Join(ways, "; "))
	return j.out
}

// judgeLeakUnchecked: the leak check reads every request the page sent
// while it held a token. When a flood of the page's requests outran the
// session's bounded event queue, or the run's cap on kept requests
// (events.dropped, kind network), some went unseen: with a token in the
// page, a leak among them cannot be ruled out, and the run says so
// (token.leak_unchecked [should], the level of token.leaked itself)
// rather than certify the check. Without a token there is nothing to
// leak; a leak found anyway says more (token.leaked alone).
func judgeLeakUnchecked(o Observation) []finding.Finding {
	if len(o.Tokens) == 0 {
		return nil
	}
	for _, e := range o.Events {
		if e.Event != timeline.EventsDropped || e.TMs < o.NavStart {
			continue
		}
		kind, _ := e.Data["kind"].(string)
		if kind != "network" && kind != "bodies" {
			continue
		}
		what := "requests"
		if kind == "bodies" {
			what = "request bodies"
		}
		why := "the page's requests outran the harness's bounded event queue"
		if w, _ := e.Data["why"].(string); w == "cap" {
			why = fmt.Sprintf("the page sent more requests than the run keeps (%v)", e.Data["max_requests"])
		}
		return []finding.Finding{finding.New(finding.TokenLeakUnchecked,
			"%s: from %.0f ms on, %s went unseen, so a leak of the token among them cannot be ruled out", why, e.TMs-o.NavStart, what).WithCampaign(o.only())}
	}
	return nil
}
