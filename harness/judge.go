package harness

import (
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
	"golang.org/x/net/publicsuffix"
)

// judge turns what the run saw into campaigns and findings (PROTOCOL.md,
// "Judgement rules").
func (r *run) judge(evs []timeline.Event) ([]Campaign, []finding.Finding) {
	if r.h.opt.LiveKit {
		return r.judgeLive(evs)
	}
	p := r.sc.Profile
	var out []finding.Finding
	add := func(code finding.Code, campaign, format string, args ...any) {
		f := finding.New(code, format, args...)
		f.Campaign = campaign
		out = append(out, f)
	}
	kitSeen := len(timeline.Find(evs, timeline.KitRequest, "")) > 0 || len(timeline.Find(evs, timeline.KitLoaded, "")) > 0 ||
		len(timeline.Find(evs, timeline.Command, "")) > 0
	judged := !r.sc.LoggedOut // token and setMetaData findings
	only := ""
	if len(p.Campaigns) == 1 {
		only = p.Campaigns[0].DivID
	}
	pageHost := hostOf(p.Page.URL)
	if isQualifioHost(pageHost) {
		add(finding.CampaignMinisite, "", "the page %s is served from a Qualifio host: certify the publisher's own page", pageHost)
	}
	if !kitSeen && !r.sc.LoggedOut {
		add(finding.KitMissing, "", "the page loaded and no Qualifio loader (files.qualifio.com/kit/qualp*.js) was requested")
	}

	// setMetaData calls: routing and argument checks.
	firstSet := map[string]float64{}
	sets := map[string][]float64{}
	for _, e := range timeline.Find(evs, timeline.SetMetaData, "") {
		div := e.Campaign
		kind, _ := e.Data["div_kind"].(string)
		if kind == "missing" {
			div = only
			if judged {
				// CONTRACT §4: should with one campaign (the token still
				// reaches it), must with several (it cannot be routed).
				if only != "" {
					out = append(out, finding.New(finding.SetMetaDataDivIDMissing,
						"setMetaData was called without a divId; with one campaign it was routed to %s", only).
						WithCampaign(only).WithLevel(finding.Should))
				} else {
					out = append(out, finding.New(finding.SetMetaDataDivIDMissing,
						"setMetaData was called without a divId on a page with %d campaigns", len(p.Campaigns)).
						WithLevel(finding.Must))
				}
			}
		} else if kind != "string" && judged {
			add(finding.SetMetaDataDivIDNotString, div, "setMetaData got a divId that is not a string (%s); pass the id as a string", kind)
		}
		if _, ok := p.CampaignByDiv(div); !ok {
			if judged && kind != "missing" {
				att := only
				if att == "" {
					att = div
				}
				add(finding.SetMetaDataDivIDUnknown, att, "setMetaData named div %q, which is not a campaign of the page", div)
			}
			continue
		}
		if judged {
			if t, _ := e.Data["type"].(string); t != "JWT" {
				add(finding.SetMetaDataBadType, div, "setMetaData's second argument is %s, not exactly 'JWT'", describe(e.Data["type"]))
			}
			if tt, _ := e.Data["token_type"].(string); tt != "string" && tt != "null" && tt != "undefined" {
				add(finding.SetMetaDataTokenNotString, div, "setMetaData's token is a %s, not a string", tt)
			}
		}
		if _, ok := firstSet[div]; !ok {
			firstSet[div] = e.TMs
		}
		sets[div] = append(sets[div], e.TMs)
	}

	var camps []Campaign
	for _, pc := range p.Campaigns {
		div := pc.DivID
		c := Campaign{DivID: div, SetMetaDataMs: -1, GetMetaDataMs: -1, Outcome: OutcomeNone}
		creates := timeline.Find(evs, timeline.CreateIframe, div)
		if len(creates) > 0 {
			first := creates[0]
			c.Host, _ = first.Data["host"].(string)
			c.Created = first.Data["found"] == true
			if !c.Created {
				add(finding.CampaignDivMissing, div, "createIframe names div %q but the page has no such element when the kit runs", div)
			}
			if !strings.EqualFold(c.Host, pc.Host) {
				add(finding.CampaignHostMismatch, div, "createIframe uses host %q, the profile says %q", c.Host, pc.Host)
			}
			switch {
			case pageHost == "localhost" || net.ParseIP(pageHost) != nil:
				add(finding.CampaignCNAMEUnchecked, div, "the page is on %s: the campaign host %s cannot be checked against a registrable domain", pageHost, c.Host)
			case !underDomain(strings.ToLower(c.Host), registrable(pageHost)):
				add(finding.CampaignNotCNAME, div, "campaign host %s is not under the page's domain %s", c.Host, registrable(pageHost))
			}
		} else if kitSeen && !r.sc.LoggedOut {
			add(finding.CampaignNotCreated, div, "no createIframe for div %s", div)
		}
		set, hasSet := firstSet[div]
		if hasSet {
			c.SetMetaDataMs = set
		}
		get, hasGet := timeline.First(evs, timeline.GetMetaData, div)
		if hasGet {
			c.GetMetaDataMs = get.TMs
		}
		if hasSet && hasGet {
			c.MarginMs = get.TMs - set
		}
		if judged && hasGet {
			switch {
			case !hasSet:
				add(finding.SetMetaDataMissing, div, "the campaign asked for metadata and no setMetaData for %s came", div)
			case set > get.TMs:
				if r.sc.Throttle != nil {
					add(finding.SetMetaDataRace, div, "under throttling, setMetaData arrived %.0f ms after the campaign asked for metadata", set-get.TMs)
				} else {
					add(finding.SetMetaDataLate, div, "setMetaData arrived %.0f ms after the campaign asked for metadata", set-get.TMs)
				}
			case len(creates) > 0 && set >= creates[0].TMs && get.TMs-set < raceMargin && !queuedBeforeKit(evs, div, only):
				add(finding.SetMetaDataRace, div, "setMetaData came only %.0f ms before the campaign asked for metadata", get.TMs-set)
			}
		}
		// Token findings: those of the first token the campaign received.
		if results := r.kit.Results(div); len(results) > 0 {
			c.Token = results[0]
			if judged {
				for _, f := range results[0].Findings {
					f.Campaign = div
					out = append(out, f)
				}
			}
		}
		// Outcome: the last of prefilled/blocked.
		for _, e := range evs {
			if e.Campaign != div {
				continue
			}
			switch e.Event {
			case timeline.FormPrefilled:
				c.Outcome = OutcomePrefilled
			case timeline.Blocked:
				c.Outcome = OutcomeBlocked
			case timeline.ErrorMessage:
				c.ErrorCode, _ = e.Data["code"].(string)
			}
		}
		if c.Outcome == OutcomeBlocked && r.sc.Fault == "" && !r.sc.LoggedOut {
			add(finding.CampaignBlocked, div, "the participant ended on the blocked spinner (%s)", orNone(c.ErrorCode))
		}
		// Page reaction to the first error message.
		if firstErr, ok := timeline.First(evs, timeline.ErrorMessage, div); ok {
			c.PageReaction = r.reaction(evs, div, firstErr.TMs, sets[div], only)
			if c.PageReaction != "" {
				r.rec.Add(timeline.Page, timeline.PageReaction, div, map[string]any{"kind": c.PageReaction, "judged": true})
			}
			switch {
			case r.sc.Fault != "" && c.PageReaction == "":
				add(finding.PageErrorUnhandled, div, "the campaign reported %s and the page showed no reaction within %s", orNone(c.ErrorCode), r.observe())
			case r.sc.LoggedOut && c.Outcome == OutcomeBlocked && c.PageReaction == "":
				add(finding.PageLoggedOutBlocked, div, "a logged-out visitor is left on the blocked spinner (%s) with no login prompt", orNone(c.ErrorCode))
			}
		}
		camps = append(camps, c)
	}
	out = append(out, r.leaks()...)
	for i := range out {
		out[i].Scenario = r.sc.Name
	}
	return camps, dedupe(out)
}

// judgeLive judges an observe-mode run (the real Qualifio kit, no
// interception): only what the recorder saw in the page can be judged, the
// queue commands and the leaks; the campaign side is Qualifio's own.
func (r *run) judgeLive(evs []timeline.Event) ([]Campaign, []finding.Finding) {
	var out []finding.Finding
	var cmds []timeline.Event
	for _, e := range timeline.Find(evs, timeline.Command, "") {
		if e.Source == timeline.Page {
			cmds = append(cmds, e)
		}
	}
	if len(cmds) == 0 && !r.sc.LoggedOut {
		out = append(out, finding.New(finding.KitMissing, "no _qual_async command was pushed by the page"))
	}
	var camps []Campaign
	for _, pc := range r.sc.Profile.Campaigns {
		c := Campaign{DivID: pc.DivID, SetMetaDataMs: -1, GetMetaDataMs: -1, Outcome: OutcomeNone}
		for _, e := range cmds {
			if e.Campaign != pc.DivID {
				continue
			}
			switch e.Data["name"] {
			case "createIframe":
				if !c.Created {
					c.Created = true
					if args, ok := e.Data["args"].([]any); ok && len(args) > 2 {
						c.Host, _ = args[2].(string)
					}
				}
			case "setMetaData":
				if c.SetMetaDataMs < 0 {
					c.SetMetaDataMs = e.TMs
				}
			}
		}
		if !c.Created && len(cmds) > 0 && !r.sc.LoggedOut {
			f := finding.New(finding.CampaignNotCreated, "no createIframe for div %s", pc.DivID)
			f.Campaign = pc.DivID
			out = append(out, f)
		}
		camps = append(camps, c)
	}
	out = append(out, r.leaks()...)
	for i := range out {
		out[i].Scenario = r.sc.Name
	}
	return camps, dedupe(out)
}

// queuedBeforeKit reports whether the page pushed a setMetaData for div
// into the queue before the kit took it over: the kit then replays it with
// the createIframe, so it cannot race.
func queuedBeforeKit(evs []timeline.Event, div, only string) bool {
	for _, e := range timeline.Find(evs, timeline.Command, "") {
		if e.Source != timeline.Page || e.Data["name"] != "setMetaData" || e.Data["how"] != "queued" {
			continue
		}
		if e.Campaign == div || (e.Campaign == "" && only == div) {
			return true
		}
	}
	return false
}

// reaction returns the first kind of page reaction after an error at tErr.
func (r *run) reaction(evs []timeline.Event, div string, tErr float64, sets []float64, only string) string {
	for _, t := range sets {
		if t > tErr {
			return "setMetaData"
		}
	}
	for _, e := range evs {
		if e.TMs <= tErr {
			continue
		}
		switch {
		case e.Event == timeline.Navigation && e.Data["phase"] == nil:
			return "navigation"
		case e.Event == timeline.Dialog:
			return "dialog"
		case e.Event == timeline.PageReaction && e.Data["kind"] == "dom":
			return "dom"
		}
	}
	return ""
}

func (r *run) observe() interface{ String() string } {
	if r.sc.Observe > 0 {
		return r.sc.Observe
	}
	return DefaultObserve
}

// leaks finds the tokens (or their payload segment) in requests to hosts
// other than the campaign hosts, and in console messages.
func (r *run) leaks() []finding.Finding {
	r.mu.Lock()
	tokens := make(map[string]string, len(r.tokens))
	for fp, t := range r.tokens {
		tokens[fp] = t
	}
	tokenDiv := make(map[string]string, len(r.tokenDiv))
	for fp, d := range r.tokenDiv {
		tokenDiv[fp] = d
	}
	requests := append([]struct{ url, referer, body string }(nil), nil...)
	for _, q := range r.requests {
		u, err := url.Parse(q.URL)
		// The loader's own URL counts: a token in it is sent to Qualifio's
		// file server, not to the campaign.
		if err != nil || r.kit.IsCampaignHost(u.Hostname()) {
			continue
		}
		requests = append(requests, struct{ url, referer, body string }{q.URL, q.Referer, q.Body})
	}
	console := append([]string(nil), nil...)
	for _, c := range r.console {
		console = append(console, c.Text)
	}
	r.mu.Unlock()

	var out []finding.Finding
	fps := make([]string, 0, len(tokens))
	for fp := range tokens {
		fps = append(fps, fp)
	}
	sort.Strings(fps)
	for _, fp := range fps {
		needles := leakNeedles(tokens[fp])
		if len(needles) == 0 {
			continue
		}
		where := ""
		for _, q := range requests {
			dec, _ := url.QueryUnescape(q.url)
			switch {
			case containsAny(q.url, needles) || containsAny(dec, needles):
				where = "the URL of a request to " + hostOf(q.url)
			case containsAny(q.referer, needles):
				where = "the Referer of a request to " + hostOf(q.url)
			case containsAny(q.body, needles):
				where = "the body of a request to " + hostOf(q.url)
			}
			if where != "" {
				break
			}
		}
		if where == "" {
			for _, c := range console {
				if containsAny(c, needles) {
					where = "the console"
					break
				}
			}
		}
		if where == "" {
			continue
		}
		div := tokenDiv[fp]
		r.rec.Add(timeline.Browser, timeline.TokenLeak, div, map[string]any{"fingerprint": fp, "where": where})
		f := finding.New(finding.TokenLeaked, "the token %s appears in %s", fp, where)
		f.Campaign = div
		out = append(out, f)
	}
	return out
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
	for _, d := range []string{"qualifio.com", "qualifioapp.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
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
