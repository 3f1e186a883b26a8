// Package observe owns both sides of the protocol between the publisher's
// page and Go: the recorder script injected before any page script
// (recorder.js, which also carries the reference kit's emissions: kit.js
// calls the recorder's emit), and the decoder that turns what they send
// through the CDP binding into typed timeline events.
//
// It also owns the typed payload of every timeline event the judgement reads
// (package judge): a producer records a payload with [Record], a consumer
// reads it back with [Decode]. The payload travels as the event's JSON data
// (report.json, event-log vectors), so the same decoding reads a live
// timeline, a report and a test vector:
//
//	observe.Record(rec, t, timeline.Kit, timeline.CreateIframe, div, observe.CreateIframeData{Host: h, Found: true, Frame: 1})
//	c := observe.Decode[observe.CreateIframeData](e)
//
// The script and the kit's loader live in different packages (the kit serves
// kit.js as the Qualifio loader), but the wire format they share, {src, ev,
// div, t, data}, is decoded here and nowhere else: see [Decoder].
package observe

import (
	"embed"
	"encoding/json"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

//go:embed recorder.js page.js frames.js
var assets embed.FS

// Binding is the name of the CDP Runtime binding through which the recorder
// sends raw events to Go. It exists only in the isolated World.
const Binding = "__qualcertEmit"

// World is the name of the isolated world the recorder runs in: the page's
// DOM, none of its JavaScript.
const World = "qualcert"

// RecorderJS is the script to inject, in World, before any page script: the
// recorder and the reference kit's bookkeeping. With hosts (the profile's
// campaign hosts), the kit refuses an iframe on any other host
// (campaign.host_mismatch, without loading it).
func RecorderJS(hosts ...string) string { return withHosts(asset("recorder.js"), hosts) }

// PageJS is the script to inject in the page's own world before any page
// script: the _qual_async interception, which relays what the page pushes
// to the recorder (and nothing that can change a verdict). With hosts (the
// profile's campaign hosts), it stays out of the frames on those hosts, as
// the recorder does: they are the campaign's, not the page's.
func PageJS(hosts ...string) string { return withHosts(asset("page.js"), hosts) }

// withHosts fills the script's list of campaign hosts in (lower case).
func withHosts(js string, hosts []string) string {
	if len(hosts) == 0 {
		return js
	}
	lower := make([]string, len(hosts))
	for i, h := range hosts {
		lower[i] = strings.ToLower(h)
	}
	b, _ := json.Marshal(lower)
	return strings.Replace(js, "null; /*qualcert:hosts*/", string(b)+";", 1)
}

// asset is an embedded script, with frames.js (the rule of which frames
// are followed, shared by recorder.js and page.js) in its place.
func asset(name string) string {
	return strings.Replace(embedded(name), "  /*qualcert:frames*/\n", embedded("frames.js"), 1)
}

func embedded(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("observe: embedded " + name + " missing") // a build defect, caught by every test
	}
	return string(b)
}

// Payloads of the timeline events, one type per event name. Keys are the
// JSON keys of report.json's timeline: never rename one.

// CommandData is a _qual_async command the page pushed (source page), or an
// error of the reference kit running one (source kit).
type CommandData struct {
	Name    string `json:"name,omitempty"`
	How     string `json:"how,omitempty"` // queued (before the loader took the queue) | run
	Args    []any  `json:"args,omitempty"`
	Error   string `json:"error,omitempty"` // kit.error | command.unknown | command.invalid
	Message string `json:"message,omitempty"`
}

// KitRequestData is a request for a Qualifio loader.
type KitRequestData struct {
	URL string `json:"url"`
}

// KitLoadedData is the reference kit starting in the page.
type KitLoadedData struct {
	Again bool `json:"again,omitempty"` // a second copy of the loader ran (it does nothing)
}

// CreateIframeData is what the kit did with a createIframe command.
type CreateIframeData struct {
	Host        string `json:"host"`
	Found       bool   `json:"found"` // the div was in the page: an iframe was created
	DivKind     string `json:"div_kind,omitempty"`
	ChannelType string `json:"channel_type,omitempty"`
	GUID        string `json:"guid,omitempty"`
	Frame       int    `json:"frame,omitempty"` // the iframe's number in this document (1, 2…), 0 when none
	// Refused says why the kit did not create the iframe although the div
	// was there: "host" for a host the profile does not name (loading it
	// would reach the real network; judged campaign.host_mismatch).
	Refused string `json:"refused,omitempty"`
}

// SetMetaDataData is a setMetaData the kit received (redacted).
type SetMetaDataData struct {
	Type        any    `json:"type"`                  // the second argument as described by the kit ('JWT' expected)
	DivKind     string `json:"div_kind"`              // string | element | missing | number…
	TokenType   string `json:"token_type"`            // string | null | undefined | object…
	Fingerprint string `json:"fingerprint,omitempty"` // of the token, when a string
	Length      int    `json:"length,omitempty"`
	// Queued: the loader replayed it from the queue, where the page had
	// pushed it before the kit ran (it cannot race).
	Queued bool `json:"queued,omitempty"`
}

// FrameData is an event about one campaign iframe (iframe.loaded, getMetaData).
type FrameData struct {
	Frame int `json:"frame,omitempty"`
}

// PostMessageData is a Qualifio message between frames.
type PostMessageData struct {
	Origin    string         `json:"origin,omitempty"`
	Type      string         `json:"type"`
	Direction string         `json:"direction"` // to-page | to-campaign
	HasMeta   *bool          `json:"has_meta,omitempty"`
	Payload   map[string]any `json:"payload,omitempty"`
	Frame     int            `json:"frame,omitempty"`
}

// MetaDataData is the campaign receiving the kit's answer to getMetaData.
type MetaDataData struct {
	HasMeta  bool `json:"has_meta"`
	HasToken bool `json:"has_token"`
	Frame    int  `json:"frame,omitempty"`
}

// OutcomeData is a campaign's outcome or error message (form.prefilled,
// campaign.blocked, error.message, fault.injected).
type OutcomeData struct {
	Code   string   `json:"code,omitempty"`
	Fault  bool     `json:"fault,omitempty"`
	Fields []string `json:"fields,omitempty"`
	Frame  int      `json:"frame,omitempty"`
}

// TokenVerifiedData is the reference verifier's verdict on one token, for
// one campaign iframe: the per-iframe verdict the judgement reads.
type TokenVerifiedData struct {
	Fingerprint string            `json:"fingerprint,omitempty"`
	Format      string            `json:"format,omitempty"`
	Mode        string            `json:"mode,omitempty"`
	Valid       bool              `json:"valid"`
	Codes       []string          `json:"codes,omitempty"`
	Findings    []finding.Finding `json:"findings,omitempty"`
	Length      int               `json:"length,omitempty"`
	Frame       int               `json:"frame,omitempty"`
}

// NavigationData is a navigation of the top frame, or a harness phase.
type NavigationData struct {
	URL          string `json:"url,omitempty"`
	Phase        string `json:"phase,omitempty"` // start (the scenario's own) | login; "" for the browser's
	SameDocument bool   `json:"same_document,omitempty"`
	Steps        int    `json:"steps,omitempty"`
}

// Reaction kinds (Campaign.PageReaction).
const (
	ReactSetMetaData = "setMetaData"
	ReactNavigation  = "navigation"
	ReactDialog      = "dialog"
	ReactDOM         = "dom"
)

// DOMData is visible content the page added or revealed after a campaign
// error (kind dom), as the recorder describes it: never its text, only its
// shape. The judge decides from it whether it helps the participant
// (PROTOCOL.md, "What counts as a page reaction").
type DOMData struct {
	Kind    string `json:"kind"` // dom; or, on the harness's judged reaction, the reaction kind
	Tag     string `json:"tag,omitempty"`
	ID      string `json:"id,omitempty"`
	Role    string `json:"role,omitempty"` // role attribute of the element or its nearest ancestor with one
	TextLen int    `json:"text_len,omitempty"`
	Near    string `json:"near,omitempty"`    // the campaign div it is inside of, contains, or is a sibling of
	Session bool   `json:"session,omitempty"` // a login/sign-in link, button, form or password field, or such words
	Consent bool   `json:"consent,omitempty"` // cookie/consent/privacy wording
	Judged  bool   `json:"judged,omitempty"`  // the harness's verdict event, not the recorder's observation
}

// ResponseData is the answer of the top frame's document (page.response).
type ResponseData struct {
	URL         string `json:"url,omitempty"`
	Status      int    `json:"status"`
	MIMEType    string `json:"mime_type,omitempty"`
	Disposition string `json:"disposition,omitempty"`
	CSP         string `json:"csp,omitempty"` // the Content-Security-Policy header, when any
}

// How the page stopped its campaign (page.blocked_load, BlockedData.How).
const (
	BlockedCSP        = "csp"         // a Content-Security-Policy directive refused a load (the judge reads which)
	BlockedSandbox    = "sandbox"     // a sandbox (an iframe's sandbox attribute, a CSP sandbox) keeps scripts from running
	BlockedDivRemoved = "div.removed" // the page removed the campaign's iframe (or its div) after createIframe
)

// BlockedData is one way the page stopped its own campaign: a CSP
// violation Chromium reported (Audits issue, Source "audits") or the
// recorder saw (a trusted securitypolicyviolation event, "event"), a
// sandboxed container of the tag ("recorder"), or the campaign's iframe
// removed by the page ("kit").
type BlockedData struct {
	How        string `json:"how"`                   // Blocked* constants
	Directive  string `json:"directive,omitempty"`   // the violated CSP directive (frame-src, script-src-elem…), or the sandbox attribute's value
	BlockedURL string `json:"blocked_url,omitempty"` // what was refused
	ReportOnly bool   `json:"report_only,omitempty"` // Content-Security-Policy-Report-Only: reported, not blocked
	Source     string `json:"source,omitempty"`      // audits | event | recorder | kit
	Frame      int    `json:"frame,omitempty"`       // the removed iframe's number
	DivGone    bool   `json:"div_gone,omitempty"`    // the div itself was removed with it
	// A sandbox reported by the frame that holds the tag (Source "frame"):
	// its host and path (about:srcdoc, about:blank), and whether its
	// scripts run with an opaque origin (a sandbox with allow-scripts but
	// without allow-same-origin) rather than not at all.
	FrameURL string `json:"frame_url,omitempty"`
	Opaque   bool   `json:"opaque,omitempty"`
}

// IframeData is an iframe the page itself put in the document (not the
// kit's): its host and path only.
type IframeData struct {
	Host string `json:"host"`
	Path string `json:"path,omitempty"`
}

// SignData is a sign of a campaign in the page (page.campaign_sign): a
// qualifio_insert_place_* div (Kind "div", What its id), the _qual_async
// queue ("queue"), or a script whose src or text names Qualifio ("script",
// What the loader URL or Qualifio host it names, or "inline").
type SignData struct {
	Kind string `json:"kind"`
	What string `json:"what,omitempty"`
}

// Signs of a campaign.
const (
	SignDiv    = "div"
	SignQueue  = "queue"
	SignScript = "script"
)

// DialogData is an alert/confirm/prompt the harness dismissed.
type DialogData struct {
	Type    string `json:"type,omitempty"`
	Message string `json:"message,omitempty"`
	Action  string `json:"action,omitempty"`
}

// Tamper kinds (TamperData.What).
const (
	// TamperSwallowed: a Qualifio message from a campaign iframe was
	// stopped by a page listener before the window's other listeners
	// (Qualifio's real kit among them) saw it.
	TamperSwallowed = "message.swallowed"
	// TamperEmitter: the page called an emitter name the harness used to
	// expose in the page's world (a forged event).
	TamperEmitter = "emitter.called"
	// TamperForged: the page dispatched a Qualifio message event of its
	// own making (not sent by any frame); the kit ignores it.
	TamperForged = "message.forged"
)

// TamperData is the page interfering with the harness (page.tampered).
type TamperData struct {
	What string `json:"what"`
	Name string `json:"name,omitempty"` // the message type, or the emitter called
}

// RelayDroppedData is what the recorder dropped of the page world's relays
// over their bounds (size or rate).
type RelayDroppedData struct {
	Count int    `json:"count"`
	Why   string `json:"why,omitempty"`
}

// FaultData is the fault the harness injected.
type FaultData struct {
	Code string `json:"code"`
}

// ThrottleData is the emulated device.
type ThrottleData struct {
	CPURate      float64 `json:"cpu_rate"`
	LatencyMs    int64   `json:"latency_ms"`
	DownloadKbps float64 `json:"download_kbps"`
	UploadKbps   float64 `json:"upload_kbps"`
}

// Record adds an event with a typed payload at time t (the recorder's
// clock; t < 0 = now).
func Record(rec *timeline.Recorder, t float64, src timeline.Source, name, campaign string, payload any) timeline.Event {
	data := Encode(payload)
	if t < 0 {
		return rec.Add(src, name, campaign, data)
	}
	return rec.AddAt(t, src, name, campaign, data)
}

// Encode turns a payload into an event's data.
func Encode(payload any) map[string]any {
	if payload == nil {
		return nil
	}
	if m, ok := payload.(map[string]any); ok {
		return m
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return map[string]any{"error": "unencodable payload: " + err.Error()}
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// Decode reads an event's data as the payload type T. Missing keys read as
// zero values; a value of the wrong type leaves its field zero (a hostile
// page cannot make the judgement fail, only see its own data ignored).
func Decode[T any](e timeline.Event) T {
	var v T
	if len(e.Data) == 0 {
		return v
	}
	b, err := json.Marshal(e.Data)
	if err != nil {
		return v
	}
	if json.Unmarshal(b, &v) != nil {
		// A field of the wrong type: decode field by field, keeping what fits.
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(b, &fields)
		for k, raw := range fields {
			one, _ := json.Marshal(map[string]json.RawMessage{k: raw})
			_ = json.Unmarshal(one, &v)
		}
	}
	return v
}
