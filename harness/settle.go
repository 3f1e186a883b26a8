package harness

import (
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/timeline"
)

// settleState follows a run's timeline to decide when it has seen enough.
// It is fed every event, in order, by the single goroutine of Run.
type settleState struct {
	profileDivs map[string]bool
	observe     float64 // ms
	settle      float64 // ms
	liveKit     bool
	navStart    float64 // ms; navigations before it belong to the login

	loadedAt     float64 // -1 until the page's load event
	lastActivity float64 // last kit/campaign/navigation activity
	kitSeen      bool
	navs         int     // top-level document navigations since navStart
	lastNavAt    float64 // time of the last document navigation away
	inflight     int     // page requests in flight
	lastNetAt    float64 // last request start or end
	camps        map[string]*campState
	kitWait      float64 // ms after load to keep waiting for the kit while the page shows signs of a campaign
	signs        bool    // the current document shows signs of a campaign
}

type campState struct {
	createdAt   float64 // last createIframe that made an iframe (-1 none)
	outcomeAt   float64 // last prefilled/blocked (-1 none)
	lastErrorAt float64 // last error message (-1 none)
	lastSetAt   float64 // last setMetaData routed to it (-1 none)
	missingAt   float64 // blocked for want of metadata (-1 never)
}

// waitingForToken reports whether the campaign was blocked for want of
// metadata and no setMetaData came since: a late token may still come.
func (c *campState) waitingForToken() bool { return c.missingAt >= 0 && c.lastSetAt < c.missingAt }

func newSettleState(divs []string, observe, settle time.Duration, liveKit bool) *settleState {
	s := &settleState{profileDivs: map[string]bool{}, observe: ms(observe), settle: ms(settle), liveKit: liveKit,
		loadedAt: -1, lastNavAt: -1, navStart: -1, camps: map[string]*campState{}}
	for _, d := range divs {
		s.profileDivs[d] = true
		s.camps[d] = &campState{createdAt: -1, outcomeAt: -1, lastErrorAt: -1, lastSetAt: -1, missingAt: -1}
	}
	return s
}

// stalledNetwork is how long requests may stay in flight with nothing
// starting or ending before the run stops waiting on them for a late token:
// a long poll or a pixel that never answers must not hold every run until
// its timeout.
const stalledNetwork = 5000.0 // ms

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// only returns the single profile div, or "" with several.
func (s *settleState) only() string {
	if len(s.camps) != 1 {
		return ""
	}
	for d := range s.camps {
		return d
	}
	return ""
}

func (s *settleState) apply(e timeline.Event) {
	switch e.Event {
	case timeline.PageLoaded:
		if s.navStart >= 0 && e.TMs >= s.navStart {
			s.loadedAt = e.TMs
			s.lastActivity = max(s.lastActivity, e.TMs)
		}
	case timeline.Navigation:
		if s.navStart < 0 || e.TMs < s.navStart || e.Data["phase"] != nil {
			return
		}
		if e.Data["same_document"] == true {
			// A client-side route: the page may mount its campaign now.
			s.lastActivity = max(s.lastActivity, e.TMs)
			return
		}
		s.navs++
		if s.navs > 1 {
			s.lastNavAt = e.TMs
			s.loadedAt = -1 // a new document: wait for its load again
			s.signs = false
		}
		s.lastActivity = max(s.lastActivity, e.TMs)
	case timeline.CampaignSign:
		if s.navStart >= 0 && e.TMs >= s.navStart {
			s.signs = true
		}
	case timeline.KitRequest, timeline.KitLoaded, timeline.Command:
		s.kitSeen = true
		s.lastActivity = max(s.lastActivity, e.TMs)
	case timeline.CreateIframe:
		s.lastActivity = max(s.lastActivity, e.TMs)
		if c := s.camps[e.Campaign]; c != nil && e.Data["found"] == true {
			c.createdAt = e.TMs
		}
	case timeline.SetMetaData:
		s.lastActivity = max(s.lastActivity, e.TMs)
		div := e.Campaign
		if div == "" {
			div = s.only()
		}
		if c := s.camps[div]; c != nil {
			c.lastSetAt = e.TMs
		}
	case timeline.FormPrefilled, timeline.Blocked:
		s.lastActivity = max(s.lastActivity, e.TMs)
		if c := s.camps[e.Campaign]; c != nil {
			c.outcomeAt = e.TMs
			if e.Event == timeline.Blocked {
				// The error message to the page follows the spinner: watch
				// for the page's reaction from now on.
				c.lastErrorAt = max(c.lastErrorAt, e.TMs)
				if e.Data["code"] == "setmetadata.missing" && c.missingAt < 0 {
					c.missingAt = e.TMs
				}
			}
		}
	case timeline.ErrorMessage:
		if c := s.camps[e.Campaign]; c != nil {
			c.lastErrorAt = max(c.lastErrorAt, e.TMs)
		}
	case timeline.GetMetaData, timeline.IframeLoaded, timeline.MetaData, timeline.TokenVerified:
		s.lastActivity = max(s.lastActivity, e.TMs)
	}
}

// pending reports whether a campaign created in the current document has
// not reached an outcome yet, or may still change (a setMetaData after its
// outcome, not answered yet).
func (c *campState) pending(lastNavAt float64, settle float64, now float64) bool {
	if c.createdAt < 0 || c.createdAt < lastNavAt {
		return false // not created, or abandoned by a navigation away
	}
	if c.outcomeAt < c.createdAt {
		return true
	}
	if c.lastSetAt > c.outcomeAt && now < c.lastSetAt+settle {
		return true // a fresh token after the outcome: give it time to be judged
	}
	return false
}

// next decides whether the run is done at time now (ms), and if not, when
// to look again (ms; -1 = only on the next event or the deadline).
func (s *settleState) next(now float64, verifying int) (done bool, wake float64) {
	wake = -1
	later := func(t float64) {
		if t > now && (wake < 0 || t < wake) {
			wake = t
		}
	}
	if verifying > 0 {
		return false, -1
	}
	allSettled, anyCreated := true, false
	for _, c := range s.camps {
		if c.createdAt >= 0 {
			anyCreated = true
		}
		if c.pending(s.lastNavAt, s.settle, now) {
			if c.lastSetAt > c.outcomeAt && c.outcomeAt >= c.createdAt {
				later(c.lastSetAt + s.settle)
			}
			return false, wake
		}
		if c.outcomeAt < 0 {
			allSettled = false
		}
	}
	// Every campaign reached an outcome: only the reaction window remains.
	for _, c := range s.camps {
		if c.lastErrorAt >= 0 && now < c.lastErrorAt+s.observe {
			later(c.lastErrorAt + s.observe)
			return false, wake
		}
	}
	// A campaign blocked for want of metadata: a late setMetaData is
	// still possible while the page is busy on the network, and for the
	// settle window after.
	for _, c := range s.camps {
		if !c.waitingForToken() {
			continue
		}
		if s.inflight > 0 && now < s.lastNetAt+stalledNetwork {
			later(s.lastNetAt + stalledNetwork)
			return false, wake // woken when the network changes, or when it looks stalled
		}
		if now < s.lastNetAt+s.settle {
			later(s.lastNetAt + s.settle)
			return false, wake
		}
	}
	if allSettled && anyCreated {
		return true, -1
	}
	// Some campaign never got created: wait for the page to load and stay
	// quiet for the settle window.
	if s.loadedAt < 0 {
		return false, -1
	}
	// While the page shows signs of a campaign, a lazy loader, a timer or
	// a client-side route may still insert the tag: wait for it up to
	// kitWait after the load.
	end := max(s.loadedAt, s.lastActivity) + s.settle
	if s.signs {
		end = max(end, s.loadedAt+s.kitWait)
	}
	if now >= end {
		return true, -1
	}
	later(end)
	return false, wake
}

// verdictAtDeadline says whether enough was seen at the scenario deadline
// for a verdict: every campaign created in the current document reached an
// outcome, and the page either loaded or showed its campaigns.
func (s *settleState) verdictAtDeadline(now float64) (bool, string) {
	var waiting []string
	anyOutcome := false
	for d, c := range s.camps {
		if c.outcomeAt >= 0 {
			anyOutcome = true
		}
		if c.pending(s.lastNavAt, 0, now) {
			waiting = append(waiting, d)
		}
	}
	if len(waiting) > 0 {
		return false, "campaign " + strings.Join(waiting, ", ") + " never reached an outcome (prefilled or blocked)"
	}
	if s.loadedAt < 0 && !anyOutcome {
		return false, "the page never finished loading and no campaign reached an outcome"
	}
	return true, ""
}
