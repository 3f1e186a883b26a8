package judge

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/timeline"
)

// A page can stop its own campaign: its Content-Security-Policy refuses
// the campaign's iframe (frame-src, child-src) or the kit loader
// (script-src), a sandbox keeps the tag from running (a CSP sandbox
// header, or the CMS's embed block rendered in an iframe sandboxed without
// allow-scripts, srcdoc or src of any origin) or gives it an opaque origin
// (allow-scripts without allow-same-origin: the campaign's iframe inherits
// the sandbox, without its cookies and storage), or its scripts remove the campaign's iframe after
// createIframe (a framework re-rendering the block). That is the page's
// fault, not the environment's: campaign.blocked_by_page [must], saying
// how, and the absence findings it explains (kit.missing,
// campaign.not_created, setmetadata.missing, campaign.blocked) point at it
// through caused_by (PROTOCOL.md, "Judgement rules").

// pageBlock is one way the page stopped a campaign (campaign "" = the page's
// whole tag).
type pageBlock struct {
	campaign string
	how      string // what the message says
	at       float64
}

// consequences are the findings a block explains.
var consequences = map[finding.Code]bool{
	finding.KitMissing:         true,
	finding.CampaignNotCreated: true,
	finding.CampaignDivMissing: true,
	finding.SetMetaDataMissing: true,
	finding.CampaignBlocked:    true,
}

// pageBlocks reads the ways the page stopped its campaigns from the
// timeline (page.blocked_load, and the CSP header of page.response).
func pageBlocks(o *Observation, k kitEvidence) []pageBlock {
	var out []pageBlock
	seen := map[string]bool{}
	add := func(b pageBlock) {
		key := b.campaign + "\x00" + b.how
		if !seen[key] {
			seen[key] = true
			out = append(out, b)
		}
	}
	header := ""
	if r, ok := firstResponse(o); ok {
		header = r.CSP
		if s, ok := cspSandbox(header); ok && !k.ran {
			add(pageBlock{how: fmt.Sprintf("the page's Content-Security-Policy header sets %q without allow-scripts: no script of the page runs, the Qualifio tag included", s)})
		}
	}
	notCreated := false
	for _, c := range o.Campaigns {
		if _, ok := liveCreate(o.Events, c.DivID); !ok {
			notCreated = true
		}
	}
	// One sandbox, one finding: the top page's view of a sandboxed srcdoc
	// and the frame's own report are the same root cause; the top page's,
	// which names the attribute, is told when there is one.
	sandboxed, parentSaw := false, false
	for _, e := range o.Events {
		if e.Event == timeline.PageBlocked && e.TMs >= o.NavStart {
			if d := observe.Decode[observe.BlockedData](e); d.How == observe.BlockedSandbox && d.Source != "frame" {
				parentSaw = true
			}
		}
	}
	for _, e := range o.Events {
		if e.Event != timeline.PageBlocked || e.TMs < o.NavStart {
			continue
		}
		d := observe.Decode[observe.BlockedData](e)
		switch d.How {
		case observe.BlockedCSP:
			if d.ReportOnly {
				continue // Content-Security-Policy-Report-Only blocks nothing
			}
			host := hostOf(d.BlockedURL)
			where := policyWhere(header, d.Directive)
			for _, c := range o.Campaigns {
				if host != "" && host == strings.ToLower(bareHost(c.Host)) {
					add(pageBlock{campaign: c.DivID, at: e.TMs, how: fmt.Sprintf("the page's Content-Security-Policy (%s, %s) refused the campaign's iframe from %s: the campaign never loaded", d.Directive, where, d.BlockedURL)})
				}
			}
			if looksLikeLoader(d.BlockedURL) || host != "" && isQualifioHost(host) {
				add(pageBlock{at: e.TMs, how: fmt.Sprintf("the page's Content-Security-Policy (%s, %s) refused %s: the Qualifio kit never ran", d.Directive, where, d.BlockedURL)})
			}
		case observe.BlockedSandbox:
			if sandboxed || (k.ran && !notCreated) || (parentSaw && d.Source == "frame") {
				continue
			}
			sandboxed = true
			switch {
			case d.Source != "frame":
				add(pageBlock{at: e.TMs, how: fmt.Sprintf("the Qualifio tag is inside an iframe sandboxed without allow-scripts (sandbox=%q): the tag never runs", d.Directive)})
			case d.Opaque:
				add(pageBlock{at: e.TMs, how: fmt.Sprintf("the Qualifio tag is inside an iframe (%s) sandboxed with allow-scripts but without allow-same-origin: the tag runs with an opaque origin, and the campaign's iframe its kit creates inherits the sandbox (no cookies, no storage)", d.FrameURL)})
			default:
				add(pageBlock{at: e.TMs, how: fmt.Sprintf("the Qualifio tag is inside an iframe (%s) where no script may run (a sandbox without allow-scripts, or a CSP sandbox on the frame's response): the tag never runs", d.FrameURL)})
			}
		case observe.BlockedDivRemoved:
			create, ok := liveCreate(o.Events, e.Campaign)
			if !ok || observe.Decode[observe.CreateIframeData](create).Frame != d.Frame || create.TMs > e.TMs {
				continue // an iframe the page has since replaced by a live one
			}
			frame := d.Frame
			if hasOutcome(o.Events, e.Campaign, frame, create.TMs, e.TMs) {
				continue // removed after its flow ended (the participant moved on)
			}
			what := "the campaign's iframe"
			if d.DivGone {
				what = "the campaign's div and its iframe"
			}
			add(pageBlock{campaign: e.Campaign, at: e.TMs, how: fmt.Sprintf("the page removed %s after createIframe, before the campaign's flow ended", what)})
		}
	}
	return out
}

// judgeBlocked adds campaign.blocked_by_page for each block and points the
// findings it explains at it.
func judgeBlocked(o *Observation, k kitEvidence, fs []finding.Finding) []finding.Finding {
	blocks := pageBlocks(o, k)
	if len(blocks) == 0 {
		return fs
	}
	pageWide := false
	hit := map[string]bool{}
	for _, b := range blocks {
		f := finding.New(finding.CampaignBlockedByPage, "%s", b.how)
		f.Campaign = b.campaign
		if b.campaign == "" {
			pageWide = true
			f.Campaign = o.only()
		}
		hit[b.campaign] = true
		fs = append(fs, f)
	}
	for i := range fs {
		f := &fs[i]
		if consequences[f.Code] && f.CausedBy == "" && (pageWide || hit[f.Campaign]) {
			f.CausedBy = finding.CampaignBlockedByPage
		}
	}
	return fs
}

// hasOutcome reports whether div's iframe frame reached an outcome between
// from and to.
func hasOutcome(evs []timeline.Event, div string, frame int, from, to float64) bool {
	for _, e := range evs {
		if (e.Event == timeline.FormPrefilled || e.Event == timeline.Blocked) && e.Campaign == div && inFrame(e, frame) && e.TMs >= from && e.TMs <= to {
			return true
		}
	}
	return false
}

// firstResponse is the top frame's first answer after the navigation.
func firstResponse(o *Observation) (observe.ResponseData, bool) {
	for _, e := range o.Events {
		if e.Event == timeline.PageResponse && e.TMs >= o.NavStart {
			return observe.Decode[observe.ResponseData](e), true
		}
	}
	return observe.ResponseData{}, false
}

// cspSandbox returns a policy's sandbox directive when it lacks
// allow-scripts (a sandbox with allow-scripts lets the tag run).
func cspSandbox(policy string) (string, bool) {
	for _, p := range strings.Split(policy, ",") {
		for _, d := range strings.Split(p, ";") {
			f := strings.Fields(strings.ToLower(d))
			if len(f) == 0 || f[0] != "sandbox" {
				continue
			}
			allowed := false
			for _, t := range f[1:] {
				if t == "allow-scripts" {
					allowed = true
				}
			}
			if !allowed {
				return strings.Join(f, " "), true
			}
		}
	}
	return "", false
}

// policyWhere says where the violated policy was set: the response header
// when it holds the directive (or what it falls back to), else a <meta>
// tag of the page.
func policyWhere(header, directive string) string {
	const meta = "set in a <meta http-equiv=\"Content-Security-Policy\"> tag"
	if header == "" {
		return meta
	}
	names := []string{directive, "default-src"}
	switch {
	case directive == "frame-src":
		names = append(names, "child-src")
	case strings.HasPrefix(directive, "script-src"):
		names = append(names, "script-src")
	}
	h := strings.ToLower(header)
	for _, n := range names {
		if n != "" && (strings.HasPrefix(h, n+" ") || strings.Contains(h, ";"+n+" ") || strings.Contains(h, "; "+n+" ") || strings.Contains(h, ", "+n+" ")) {
			return "set in its Content-Security-Policy header"
		}
	}
	return meta
}

// bareHost is a host without its port.
func bareHost(h string) string {
	if u, err := url.Parse("//" + h); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return h
}
