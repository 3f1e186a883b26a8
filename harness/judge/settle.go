package judge

import (
	"sort"
	"strings"

	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/timeline"
)

// Clock is what the run's loop knows besides the timeline when it asks
// whether the run has settled: the time, the page's network activity and
// the verifications in flight.
type Clock struct {
	NowMs     float64 `json:"now_ms"`
	Inflight  int     `json:"inflight,omitempty"`    // page requests in flight
	LastNetMs float64 `json:"last_net_ms,omitempty"` // last request start or end
	Verifying int     `json:"verifying,omitempty"`   // token verifications in flight
}

// Step is the settle decision at one instant.
type Step struct {
	Done bool    `json:"done"`
	Why  string  `json:"why"`  // what the run waits for, or why it is done
	Wake float64 `json:"wake"` // when to look again (ms); -1 = on the next event only
}

// StalledNetworkMs is how long requests may stay in flight with nothing
// starting or ending before the run stops waiting on them for a late token
// or a reaction's follow-up: a long poll or a pixel that never answers must
// not hold every run until its timeout.
const StalledNetworkMs = 5000.0

// settleState follows a run's timeline to decide when it has seen enough.
type settleState struct {
	o        *Observation
	observe  float64
	settle   float64
	loadedAt float64 // -1 until the page's load event
	last     float64 // last kit/campaign/navigation activity
	navs     int     // top-level document navigations since NavStart
	navAt    float64 // time of the last document navigation away
	camps    map[string]*campState
	order    []string
	sign     string // the first sign of a campaign in the current document ("" none)
	// kitBlocked: the page's own policy keeps the kit from running in the
	// current document (its CSP refused the loader, a sandbox): no kit will
	// come, whatever the signs of a campaign.
	kitBlocked bool
}

type campState struct {
	createdAt   float64 // last createIframe that made an iframe (-1 none)
	outcomeAt   float64 // last prefilled/blocked (-1 none)
	lastErrorAt float64 // last error message (-1 none)
	lastSetAt   float64 // last setMetaData routed to it (-1 none)
	missingAt   float64 // blocked for want of metadata (-1 never)
	// stopped: the page's CSP refuses the campaign's host in the current
	// document: its iframe never loads, now or on a later createIframe.
	stopped bool
}

// waitingForToken reports whether the campaign was blocked for want of
// metadata and no setMetaData came since: a late token may still come.
func (c *campState) waitingForToken() bool { return c.missingAt >= 0 && c.lastSetAt < c.missingAt }

func newSettle(o *Observation) *settleState {
	s := &settleState{o: o, observe: o.Conditions.observe(), settle: o.Conditions.settle(), loadedAt: -1, navAt: -1, camps: map[string]*campState{}}
	for _, c := range o.Campaigns {
		s.camps[c.DivID] = &campState{createdAt: -1, outcomeAt: -1, lastErrorAt: -1, lastSetAt: -1, missingAt: -1}
		s.order = append(s.order, c.DivID)
	}
	only := o.only()
	for _, e := range o.Events {
		s.apply(e, only)
	}
	return s
}

func (s *settleState) active(t float64) { s.last = max(s.last, t) }

func (s *settleState) apply(e timeline.Event, only string) {
	switch e.Event {
	case timeline.PageLoaded:
		if e.TMs >= s.o.NavStart {
			s.loadedAt = e.TMs
			s.active(e.TMs)
		}
	case timeline.Navigation:
		n := observe.Decode[observe.NavigationData](e)
		if e.TMs < s.o.NavStart || n.Phase != "" {
			return
		}
		if n.SameDocument {
			s.active(e.TMs) // a client-side route: the page may mount its campaign now
			return
		}
		s.navs++
		if s.navs > 1 {
			s.navAt = e.TMs
			s.loadedAt = -1 // a new document: wait for its load again
			s.sign = ""
			s.kitBlocked = false
			for _, c := range s.camps {
				c.stopped = false
			}
		}
		s.active(e.TMs)
	case timeline.CampaignSign:
		if e.TMs >= s.o.NavStart && s.sign == "" {
			d := observe.Decode[observe.SignData](e)
			s.sign = d.Kind + " " + d.What
		}
	case timeline.KitRequest, timeline.KitLoaded, timeline.Command:
		s.active(e.TMs)
	case timeline.CreateIframe:
		s.active(e.TMs)
		// An iframe refused by the kit (a host the profile does not name)
		// never loads: the campaign is not waited for.
		if d := observe.Decode[observe.CreateIframeData](e); s.camps[e.Campaign] != nil && d.Found && d.Refused == "" {
			c := s.camps[e.Campaign]
			c.createdAt = e.TMs
		}
	case timeline.SetMetaData:
		s.active(e.TMs)
		div := e.Campaign
		if div == "" {
			div = only
		}
		if c := s.camps[div]; c != nil {
			c.lastSetAt = e.TMs
		}
	case timeline.FormPrefilled, timeline.Blocked:
		s.active(e.TMs)
		c := s.camps[e.Campaign]
		if c == nil || e.TMs < c.createdAt {
			return // an iframe the page has since replaced
		}
		c.outcomeAt = e.TMs
		if e.Event == timeline.Blocked {
			// The error message to the page follows the spinner: watch
			// for the page's reaction from now on.
			c.lastErrorAt = max(c.lastErrorAt, e.TMs)
			if observe.Decode[observe.OutcomeData](e).Code == "setmetadata.missing" && c.missingAt < c.createdAt {
				c.missingAt = e.TMs
			}
		}
	case timeline.ErrorMessage:
		if c := s.camps[e.Campaign]; c != nil && e.TMs >= c.createdAt {
			c.lastErrorAt = max(c.lastErrorAt, e.TMs)
		}
	case timeline.GetMetaData, timeline.IframeLoaded, timeline.MetaData, timeline.TokenVerified:
		s.active(e.TMs)
	case timeline.PageBlocked:
		if e.TMs >= s.o.NavStart {
			s.blocked(e)
		}
	case timeline.PageResponse:
		// A CSP sandbox without allow-scripts: no script of this document
		// runs, the kit's included.
		if e.TMs >= s.o.NavStart {
			_, s.kitBlocked = cspSandbox(observe.Decode[observe.ResponseData](e).CSP)
		}
	}
}

// blocked applies a way the page stopped its campaign (blocked.go): the
// campaign it concerns is not waited for, nor is a kit the page keeps from
// running.
func (s *settleState) blocked(e timeline.Event) {
	d := observe.Decode[observe.BlockedData](e)
	switch d.How {
	case observe.BlockedDivRemoved:
		if c := s.camps[e.Campaign]; c != nil && c.createdAt >= 0 && e.TMs >= c.createdAt && c.outcomeAt < c.createdAt {
			c.outcomeAt = e.TMs
		}
	case observe.BlockedSandbox:
		s.kitBlocked = true
	case observe.BlockedCSP:
		if d.ReportOnly {
			return
		}
		host := hostOf(d.BlockedURL)
		if looksLikeLoader(d.BlockedURL) || host != "" && isQualifioHost(host) {
			s.kitBlocked = true
		}
		for _, c := range s.o.Campaigns {
			if host != "" && host == strings.ToLower(bareHost(c.Host)) {
				s.camps[c.DivID].stopped = true
			}
		}
	}
}

// pending reports whether a campaign created in the current document has
// not reached an outcome yet, or may still change (a setMetaData after its
// outcome, not answered yet).
func (c *campState) pending(navAt, settle, now float64) bool {
	if c.createdAt < 0 || c.createdAt < navAt || c.stopped {
		return false // not created, abandoned by a navigation away, or refused by the page's CSP
	}
	if c.outcomeAt < c.createdAt {
		return true
	}
	return c.lastSetAt > c.outcomeAt && now < c.lastSetAt+settle
}

// Settle decides whether the run has seen enough at clock k, and if not,
// what it waits for and when to look again (PROTOCOL.md, "When a run ends").
func Settle(o Observation, k Clock) Step {
	s := newSettle(&o)
	now := k.NowMs
	wake := -1.0
	later := func(t float64) {
		if t > now && (wake < 0 || t < wake) {
			wake = t
		}
	}
	wait := func(why string) Step { return Step{Why: why, Wake: wake} }
	if k.Verifying > 0 {
		return Step{Why: "a token is being verified", Wake: -1}
	}
	netBusy := k.Inflight > 0 && now < k.LastNetMs+StalledNetworkMs
	allSettled, anyCreated := true, false
	for _, div := range s.order {
		c := s.camps[div]
		if c.createdAt >= 0 {
			anyCreated = true
		}
		if c.pending(s.navAt, s.settle, now) {
			if c.lastSetAt > c.outcomeAt && c.outcomeAt >= c.createdAt {
				later(c.lastSetAt + s.settle)
				return wait("campaign " + div + " got a fresh setMetaData after its outcome")
			}
			return wait("campaign " + div + " has no outcome yet")
		}
		if c.outcomeAt < 0 && !c.stopped {
			allSettled = false
		}
	}
	// Every created campaign reached an outcome: the page's reaction to an
	// error, seen on events, within the observe bound.
	for _, div := range s.order {
		c := s.camps[div]
		if c.lastErrorAt < 0 || c.createdAt < s.navAt {
			continue
		}
		kind, at := Reaction(o.Events, div, o.only(), c.lastErrorAt)
		switch {
		case kind == "":
			if now < c.lastErrorAt+s.observe {
				later(c.lastErrorAt + s.observe)
				return wait("watching for the page's reaction to campaign " + div + "'s error")
			}
		case kind != observe.ReactSetMetaData:
			// A banner or a dialog: the page may still hand a fresh token
			// over (fetched on the network), which decides the outcome.
			if netBusy {
				later(k.LastNetMs + StalledNetworkMs)
				return wait("the page reacted to campaign " + div + "'s error and is busy on the network")
			}
			if t := max(at, k.LastNetMs) + s.settle; now < t {
				later(t)
				return wait("the page reacted to campaign " + div + "'s error: a fresh token may follow")
			}
		}
	}
	// A campaign blocked for want of metadata: a late setMetaData is
	// still possible while the page is busy on the network, and for the
	// settle window after.
	for _, div := range s.order {
		c := s.camps[div]
		if !c.waitingForToken() || c.createdAt < s.navAt {
			continue
		}
		if netBusy {
			later(k.LastNetMs + StalledNetworkMs)
			return wait("campaign " + div + " is blocked for want of a token and the page is busy on the network")
		}
		if now < k.LastNetMs+s.settle {
			later(k.LastNetMs + s.settle)
			return wait("campaign " + div + " is blocked for want of a token: a late one may still come")
		}
	}
	if allSettled && anyCreated {
		return Step{Done: true, Why: "every campaign reached an outcome", Wake: -1}
	}
	// Some campaign never got created: wait for the page to load and stay
	// quiet for the settle window.
	if s.loadedAt < 0 {
		return wait("the page has not finished loading")
	}
	quiet := max(s.loadedAt, s.last)
	if now < quiet+s.settle {
		later(quiet + s.settle)
		return wait("the page loaded: waiting for it to stay quiet")
	}
	// A sign of a campaign (its div, the queue, a script naming Qualifio):
	// a lazy loader, a timer or a client-side route may still insert the
	// tag, up to the kit wait after the load.
	if s.sign != "" && !s.kitBlocked && now < s.loadedAt+o.Conditions.kitWait() {
		later(s.loadedAt + o.Conditions.kitWait())
		return wait("the page shows a sign of a campaign (" + s.sign + "): waiting for the kit")
	}
	return Step{Done: true, Why: "the page loaded and stayed quiet", Wake: -1}
}

// AtDeadline says whether enough was seen at the scenario deadline for a
// verdict: every campaign created in the current document reached an
// outcome, and the page either loaded or showed its campaigns.
func AtDeadline(o Observation, now float64) (bool, string) {
	s := newSettle(&o)
	var waiting []string
	anyOutcome := false
	for _, div := range s.order {
		c := s.camps[div]
		if c.outcomeAt >= 0 {
			anyOutcome = true
		}
		if c.pending(s.navAt, 0, now) {
			waiting = append(waiting, div)
		}
	}
	sort.Strings(waiting)
	if len(waiting) > 0 {
		return false, "campaign " + strings.Join(waiting, ", ") + " never reached an outcome (prefilled or blocked)"
	}
	if s.loadedAt < 0 && !anyOutcome {
		return false, "the page never finished loading and no campaign reached an outcome"
	}
	return true, ""
}

// Reaction returns the kind of the page's reaction to a campaign error at
// tErr, and when it came (PROTOCOL.md, "What counts as a page reaction"):
// a fresh setMetaData for that campaign wins over anything else; otherwise
// the first top-level navigation, dialog, or content that helps the
// participant. "" when there was none.
func Reaction(evs []timeline.Event, div, only string, tErr float64) (string, float64) {
	for _, e := range evs {
		if e.Event == timeline.SetMetaData && e.TMs > tErr && (e.Campaign == div || e.Campaign == "" && only == div) {
			return observe.ReactSetMetaData, e.TMs
		}
	}
	for _, e := range evs {
		if e.TMs <= tErr {
			continue
		}
		switch e.Event {
		case timeline.Navigation:
			if observe.Decode[observe.NavigationData](e).Phase == "" && e.Source == timeline.Browser {
				return observe.ReactNavigation, e.TMs
			}
		case timeline.Dialog:
			return observe.ReactDialog, e.TMs
		case timeline.PageReaction:
			if d := observe.Decode[observe.DOMData](e); !d.Judged && Helps(d, div) {
				return observe.ReactDOM, e.TMs
			}
		}
	}
	return "", -1
}

// Helps reports whether content the page showed after a campaign error
// concerns the participant's session: a login prompt or link, an alert or a
// dialog, or anything inside or right next to the campaign's container. A
// consent banner, a lazy image or an unrelated re-render is not.
func Helps(d observe.DOMData, div string) bool {
	if d.Session {
		return true
	}
	if d.Consent {
		return false
	}
	switch strings.ToLower(d.Role) {
	case "alert", "alertdialog", "dialog":
		return true
	}
	if strings.EqualFold(d.Tag, "dialog") {
		return true
	}
	return d.Near != "" && d.Near == div
}

// ProgressWindowMs is how recent the page's last sign of life must be for
// a pending campaign to count as progressing at the deadline.
const ProgressWindowMs = 3000.0

// Progressing reports whether, at now, a campaign created in the current
// document is still without an outcome while the page shows signs of life
// (any event of the page, the kit, the campaign, the verifier or the
// browser within ProgressWindowMs: its load event, an iframe loading, a
// getMetaData, a token verified…): a page slowed down by a loaded machine,
// not a stuck one (a page in an endless loop emits nothing). The harness
// then grants the run one grace period at the deadline.
func Progressing(o Observation, now float64) bool {
	s := newSettle(&o)
	pending := false
	for _, div := range s.order {
		if s.camps[div].pending(s.navAt, 0, now) {
			pending = true
		}
	}
	if !pending {
		return false
	}
	for i := len(o.Events) - 1; i >= 0; i-- {
		e := o.Events[i]
		if e.Source == timeline.Harness {
			continue
		}
		return now-e.TMs <= ProgressWindowMs
	}
	return false
}
