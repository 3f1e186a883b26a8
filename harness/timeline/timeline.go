// Package timeline records what happened during one scenario, in order, with
// monotonic timestamps: the second half of the vocabulary (with package
// finding) that every layer speaks.
//
// A [Recorder] is created when a scenario starts; the browser harness, the
// reference kit, the verifier and the user-info client all [Recorder.Add]
// events to it from any goroutine. Timestamps are milliseconds since the
// recorder started, read from Go's monotonic clock, so wall-clock jumps never
// reorder them. Event data must be redacted before it is added: token
// fingerprints and field names, never raw values.
package timeline

import (
	"sort"
	"sync"
	"time"
)

// Source says which party an event belongs to; the sequence diagram of the
// HTML report draws one lane per source.
type Source string

const (
	Page     Source = "page"     // the publisher's page and its scripts
	Kit      Source = "kit"      // the _qual_async queue and the reference kit
	Campaign Source = "campaign" // the campaign iframe
	Verifier Source = "verifier" // the reference verifier
	UserInfo Source = "userinfo" // the publisher's user-info webservice
	Browser  Source = "browser"  // navigation, network, console, dialogs
	Harness  Source = "harness"  // the harness itself (fault injection, throttling)
)

// Names of events, shared by producers and the assertions of the steps.
const (
	Navigation      = "navigation"         // page navigation started or committed
	PageLoaded      = "page.loaded"        // load event of the top page
	KitRequest      = "kit.request"        // the loader URL was requested (and intercepted)
	KitLoaded       = "kit.loaded"         // the reference kit started
	Command         = "command"            // one _qual_async command; data.name is the command
	CreateIframe    = "createIframe"       // the kit created a campaign iframe
	SetMetaData     = "setMetaData"        // the kit stored a token for a div
	IframeLoaded    = "iframe.loaded"      // a campaign iframe loaded
	GetMetaData     = "getMetaData"        // the campaign asked the parent for metadata
	MetaData        = "metadata"           // the campaign received (or not) metadata
	TokenVerified   = "token.verified"     // the verifier judged a token
	UserInfoCall    = "userinfo.call"      // the user-info webservice was called
	FormPrefilled   = "form.prefilled"     // the campaign showed the prefilled form
	Blocked         = "campaign.blocked"   // the campaign showed the blocked spinner
	ErrorMessage    = "error.message"      // the campaign sent an error message to the parent
	PageReaction    = "page.reaction"      // the page reacted to an error message
	PostMessage     = "postMessage"        // a message crossed between frames
	PageIframe      = "page.iframe"        // the page itself put an iframe in the document (not the kit)
	ConsoleError    = "console.error"      // console.error or an uncaught exception
	Dialog          = "dialog"             // alert/confirm/prompt, dismissed
	Request         = "request"            // a network request of interest
	TokenLeak       = "token.leak"         // the token was seen where it must not go
	FaultInjected   = "fault.injected"     // the harness forced a campaign error
	ThrottleApplied = "throttle.applied"   // CPU/network conditions were emulated
	Screenshot      = "screenshot"         // evidence captured
	EvidenceMasked  = "evidence.masked"    // participant values masked in the page before its screenshot
	Timeout         = "timeout"            // the scenario deadline was reached
	Truncated       = "timeline.truncated" // the recorder reached MaxEvents and drops the rest
	HarnessError    = "harness.error"      // the harness itself failed (diagnostics)
	KitError        = "kit.error"          // the reference kit or campaign failed (diagnostics)
	Tampered        = "page.tampered"      // the page interfered with the harness or the campaign's messages
	RelayDropped    = "relay.dropped"      // the recorder dropped what the page's world relayed over its bounds
	ConsoleCut      = "console.cut"        // console messages over the session's bounds were cut or dropped before decoding
	EventsDropped   = "events.dropped"     // a flood of the page's events outran the session's bounded queue (or the run's cap on requests): from here on, some of that kind went unseen
	CampaignSign    = "page.campaign_sign" // the page shows a sign of a campaign (a qualifio_insert_place_* div, a _qual_async queue, a script naming Qualifio): a kit may still come
	Scrolled        = "page.scrolled"      // the harness scrolled the page through as a reader would
	PageResponse    = "page.response"      // the top frame's document answered: status, MIME type, Content-Disposition
	PageBlocked     = "page.blocked_load"  // the page's own policy stopped a load of the campaign (CSP, sandbox) or removed its iframe
	Synced          = "harness.synced"     // the run looked settled and waited for the page's events still on their way (browser.Session.Sync): how long, how many arrived
)

// Event is one entry of a timeline (CONTRACT §3).
type Event struct {
	TMs      float64        `json:"t_ms"`
	Source   Source         `json:"source"`
	Event    string         `json:"event"`
	Campaign string         `json:"campaign,omitempty"`
	Data     map[string]any `json:"data,omitempty"`
	seq      int
}

// MaxEvents bounds a timeline: a hostile page that floods postMessage or
// _qual_async.push must not grow a run's memory (and its report) without
// limit. Past it, one Truncated event is recorded and the rest is dropped.
const MaxEvents = 20000

// Recorder collects events; it is safe for concurrent use.
type Recorder struct {
	start   time.Time
	mu      sync.Mutex
	events  []Event
	subs    []chan Event
	dropped int
	added   int // events added (or dropped past MaxEvents) so far
}

// New starts a recorder; its clock starts now.
func New() *Recorder { return &Recorder{start: time.Now()} }

// Start is the instant the recorder's clock reads zero.
func (r *Recorder) Start() time.Time { return r.start }

// Dropped is how many events were dropped past MaxEvents.
func (r *Recorder) Dropped() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Added is how many events were added so far, those dropped past
// MaxEvents included: a count to tell whether anything arrived between two
// readings.
func (r *Recorder) Added() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.added
}

// Since returns the recorder's clock reading for t, in milliseconds.
func (r *Recorder) Since(t time.Time) float64 {
	return float64(t.Sub(r.start).Microseconds()) / 1000
}

// Now returns the recorder's clock reading now, in milliseconds.
func (r *Recorder) Now() float64 { return r.Since(time.Now()) }

// Add records an event now and returns it.
func (r *Recorder) Add(src Source, name, campaign string, data map[string]any) Event {
	return r.AddAt(r.Now(), src, name, campaign, data)
}

// AddAt records an event at a clock reading taken earlier (for example the
// page's own performance.now, converted by the caller).
func (r *Recorder) AddAt(tMs float64, src Source, name, campaign string, data map[string]any) Event {
	r.mu.Lock()
	r.added++
	switch {
	case len(r.events) < MaxEvents-1:
	case len(r.events) == MaxEvents-1: // the marker takes this event's place
		r.dropped++
		src, name, campaign, data = Harness, Truncated, "", map[string]any{"max_events": MaxEvents, "first_dropped": name}
	default:
		r.dropped++
		r.mu.Unlock()
		return Event{TMs: round(tMs), Source: src, Event: name, Campaign: campaign}
	}
	e := Event{TMs: round(tMs), Source: src, Event: name, Campaign: campaign, Data: data, seq: len(r.events)}
	r.events = append(r.events, e)
	subs := append([]chan Event(nil), r.subs...)
	r.mu.Unlock()
	for _, ch := range subs {
		select {
		case ch <- e:
		default: // a slow subscriber misses events rather than blocking producers
		}
	}
	return e
}

// Subscribe returns a channel that receives every event added from now on
// (buffered; a subscriber that falls 256 events behind misses some) and a
// function that ends the subscription. Use it to wait for an event with a
// deadline instead of polling.
func (r *Recorder) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 256)
	r.mu.Lock()
	r.subs = append(r.subs, ch)
	r.mu.Unlock()
	return ch, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for i, c := range r.subs {
			if c == ch {
				r.subs = append(r.subs[:i], r.subs[i+1:]...)
				break
			}
		}
	}
}

// Events returns a copy of the events, ordered by time (ties keep the order
// in which they were added).
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	out := append([]Event(nil), r.events...)
	r.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].TMs != out[j].TMs {
			return out[i].TMs < out[j].TMs
		}
		return out[i].seq < out[j].seq
	})
	return out
}

// FromEpochMs converts a browser timestamp (performance.timeOrigin +
// performance.now(), in epoch milliseconds) to the recorder's clock. Absent
// or absurd values (a page can fake its clock) read as now, and a reading
// from the future is clamped to now.
func (r *Recorder) FromEpochMs(epochMs float64) float64 {
	now := r.Now()
	if epochMs <= 0 {
		return now
	}
	t := r.Since(time.UnixMicro(int64(epochMs * 1000)))
	if t < -1000 || t > now {
		return now
	}
	return t
}

// Find returns the events matching name (and campaign, when not empty).
func Find(events []Event, name, campaign string) []Event {
	var out []Event
	for _, e := range events {
		if e.Event == name && (campaign == "" || e.Campaign == campaign) {
			out = append(out, e)
		}
	}
	return out
}

// First returns the first event matching name and campaign.
func First(events []Event, name, campaign string) (Event, bool) {
	for _, e := range events {
		if e.Event == name && (campaign == "" || e.Campaign == campaign) {
			return e, true
		}
	}
	return Event{}, false
}

func round(ms float64) float64 {
	return float64(int64(ms*10+0.5)) / 10
}
