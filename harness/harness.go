// Package harness runs one certification scenario: it loads the publisher's
// real page in headless Chromium, serves the reference Qualifio kit and
// campaign in place of the real ones, records everything that crosses between
// page and iframe on a timeline, verifies each token with the reference
// verifier, and turns what it saw into findings.
//
// SKELETON: the types below are the agreed API; the implementation is in
// progress (issue 3).
//
//	h, err := harness.Start(ctx, harness.Options{BrowserBin: "/usr/bin/chromium"})
//	defer h.Close()
//	res, err := h.Run(ctx, harness.Scenario{Name: "happy path", Profile: p})
//
// One Harness (one browser) per run; each Run gets its own incognito context
// and is safe to call concurrently.
package harness

import (
	"context"
	"errors"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

// Options configure the browser of a run.
type Options struct {
	BrowserBin string // Chromium binary; "" = found on PATH (chromium, chromium-browser, google-chrome)
	BrowserURL string // a remote DevTools endpoint (ws://…) instead of launching
	LiveKit    bool   // observe mode: no interception, the real Qualifio kit is used
	Reveal     bool   // screenshots and events may show participant values
}

// Throttle emulates a slow device: CPU slowdown and network conditions.
type Throttle struct {
	CPURate      float64       // 4 = four times slower
	Latency      time.Duration // added round-trip latency
	DownloadKbps float64
	UploadKbps   float64
}

// SlowPhone is the throttle of the race scenarios: a mid-range phone on a
// slow 3G network (Lighthouse's mobile preset).
var SlowPhone = Throttle{CPURate: 4, Latency: 400 * time.Millisecond, DownloadKbps: 400, UploadKbps: 400}

// Scenario is one page load to observe.
type Scenario struct {
	Name      string
	Profile   *profile.Profile
	Fault     finding.Code  // when set, the campaign reports this error whatever the token
	Throttle  *Throttle     // nil: no emulation
	LoggedOut bool          // skip the profile's cookies and login
	Observe   time.Duration // how long to keep watching after the last campaign settled (page reactions); 0 = default
}

// Screenshot is evidence captured at the end of a flow.
type Screenshot struct {
	Name     string // "page.png", "campaign-<div>.png"
	Campaign string
	PNG      []byte
}

// Outcome of a campaign's flow as the reference campaign saw it.
const (
	OutcomePrefilled = "prefilled"
	OutcomeBlocked   = "blocked"
	OutcomeNone      = "none" // the campaign never got to ask (no iframe)
)

// Campaign is what happened to one campaign of the profile.
type Campaign struct {
	DivID         string         `json:"div_id"`
	Created       bool           `json:"created"`
	Host          string         `json:"host,omitempty"`          // host given to createIframe
	SetMetaDataMs float64        `json:"set_metadata_ms"`         // first setMetaData for the div, -1 if none
	GetMetaDataMs float64        `json:"get_metadata_ms"`         // the campaign's getMetaData, -1 if none
	MarginMs      float64        `json:"margin_ms"`               // get − set; negative when late
	Outcome       string         `json:"outcome"`                 // prefilled, blocked, none
	ErrorCode     string         `json:"error_code,omitempty"`    // code in the error message to the parent
	PageReaction  string         `json:"page_reaction,omitempty"` // setMetaData, navigation, login_prompt, "" when none
	Token         *verify.Result `json:"token,omitempty"`         // the verifier's result on the token received
}

// Result is everything one scenario produced.
type Result struct {
	Timeline    []timeline.Event
	Findings    []finding.Finding
	Campaigns   []Campaign
	Screenshots []Screenshot
	Duration    time.Duration
}

// ErrBroken wraps every error of Run that means no verdict could be reached
// (browser failure, page unreachable, timeout); the Result still carries the
// env.* finding and the timeline so far.
var ErrBroken = errors.New("no verdict")

// Harness owns the browser of a run.
type Harness struct{}

// Start launches (or connects to) the browser.
func Start(ctx context.Context, opt Options) (*Harness, error) {
	return nil, errors.New("harness: not implemented yet")
}

// Close shuts the browser down and removes its temporary profile.
func (h *Harness) Close() error { return nil }

// Run observes one scenario.
func (h *Harness) Run(ctx context.Context, sc Scenario) (*Result, error) {
	return nil, errors.New("harness: not implemented yet")
}
