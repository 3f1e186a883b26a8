package observe

import (
	"encoding/json"
	"fmt"

	"github.com/qualcert/qualcert/harness/timeline"
)

// Redactor is what the decoder needs from the run to keep raw values off
// the timeline.
type Redactor interface {
	// Token remembers a raw token seen in the page (for the leak check) and
	// returns its fingerprint.
	Token(raw, div string) string
	// Text scrubs free text (tokens, participant values) and caps it.
	Text(s string) string
	// Reveal reports whether raw values may be recorded (--reveal).
	Reveal() bool
}

// Emission is one message of the recorder or the kit through the binding.
type Emission struct {
	Src  string          `json:"src"` // page (recorder.js) | kit (kit.js)
	Ev   string          `json:"ev"`
	Div  string          `json:"div"`
	T    float64         `json:"t"` // epoch ms: performance.timeOrigin + performance.now()
	Data json.RawMessage `json:"data"`
}

// Emitted event names (Emission.Src + "/" + Emission.Ev).
const (
	emCommand     = "page/command"
	emPostMessage = "page/postMessage"
	emDOM         = "page/dom"
	emIframe      = "page/iframe"
	emTamper      = "page/tamper"
	emDropped     = "page/relay.dropped"
	emSign        = "page/sign"
	emCSP         = "page/csp"
	emSandbox     = "page/sandbox"
	emRemoved     = "kit/iframe.removed"
	emKitLoaded   = "kit/kit.loaded"
	emCreate      = "kit/createIframe"
	emLoaded      = "kit/iframe.loaded"
	emSetMeta     = "kit/setMetaData"
	emSent        = "kit/metadata.sent"
	emKitError    = "kit/kit.error"
	emUnknown     = "kit/command.unknown"
	emInvalid     = "kit/command.invalid"
)

// Decoder turns binding payloads into typed, redacted timeline events.
type Decoder struct {
	Rec    *timeline.Recorder
	Redact Redactor
}

// Handle decodes one payload; unknown or malformed payloads are dropped (a
// page can call the binding too).
func (d *Decoder) Handle(payload string) {
	var e Emission
	if err := json.Unmarshal([]byte(payload), &e); err != nil {
		return
	}
	// The recorder's clock is its isolated world's own (the page cannot
	// set it); an event is still never placed after its arrival in Go.
	t := d.Rec.FromEpochMs(e.T)
	if now := d.Rec.Now(); t > now || t < 0 {
		t = now
	}
	rec := func(src timeline.Source, name, div string, p any) { Record(d.Rec, t, src, name, div, p) }
	switch e.Src + "/" + e.Ev {
	case emCommand:
		var raw struct {
			How  string `json:"how"`
			Args []any  `json:"args"`
		}
		if json.Unmarshal(e.Data, &raw) != nil {
			return
		}
		name, div := d.command(raw.Args)
		rec(timeline.Page, timeline.Command, div, CommandData{Name: name, How: raw.How, Args: d.redactArgs(name, div, raw.Args)})
	case emPostMessage:
		var raw struct {
			Origin  string         `json:"origin"`
			Type    string         `json:"type"`
			Payload map[string]any `json:"payload"`
		}
		if json.Unmarshal(e.Data, &raw) != nil {
			return
		}
		p := PostMessageData{Origin: raw.Origin, Type: raw.Type, Direction: "to-page"}
		if raw.Payload != nil {
			p.Payload = map[string]any{}
			for k, v := range raw.Payload {
				if head, n, ok := BigString(v); ok {
					v = map[string]any{"fingerprint": d.Redact.Token(head, e.Div), "length": n}
				} else if s, ok := v.(string); ok {
					if k == "jwt" {
						v = d.Redact.Token(s, e.Div)
					} else if k != "type" && k != "divId" && k != "code" {
						v = d.Redact.Text(s)
					}
				}
				p.Payload[k] = v
			}
		}
		rec(timeline.Page, timeline.PostMessage, e.Div, p)
	case emDOM:
		var p DOMData
		if json.Unmarshal(e.Data, &p) != nil {
			return
		}
		p.Kind, p.Judged, p.ID = ReactDOM, false, d.Redact.Text(p.ID)
		rec(timeline.Page, timeline.PageReaction, "", p)
	case emIframe:
		var p IframeData
		if json.Unmarshal(e.Data, &p) != nil {
			return
		}
		p.Path = d.Redact.Text(p.Path)
		rec(timeline.Page, timeline.PageIframe, "", p)
	case emTamper:
		var p TamperData
		if json.Unmarshal(e.Data, &p) != nil {
			return
		}
		p.What, p.Name = d.Redact.Text(p.What), d.Redact.Text(p.Name)
		rec(timeline.Page, timeline.Tampered, e.Div, p)
	case emDropped:
		var p RelayDroppedData
		_ = json.Unmarshal(e.Data, &p)
		rec(timeline.Page, timeline.RelayDropped, "", p)
	case emSign:
		var p SignData
		if json.Unmarshal(e.Data, &p) != nil {
			return
		}
		switch p.Kind {
		case SignDiv, SignQueue, SignScript:
		default:
			return
		}
		p.What = d.Redact.Text(p.What)
		rec(timeline.Page, timeline.CampaignSign, "", p)
	case emCSP:
		var raw struct {
			Directive  string `json:"directive"`
			BlockedURL string `json:"blocked_url"`
			ReportOnly bool   `json:"report_only"`
		}
		if json.Unmarshal(e.Data, &raw) != nil {
			return
		}
		rec(timeline.Page, timeline.PageBlocked, "", BlockedData{How: BlockedCSP, Directive: d.Redact.Text(raw.Directive),
			BlockedURL: d.Redact.Text(raw.BlockedURL), ReportOnly: raw.ReportOnly, Source: "event"})
	case emSandbox:
		var raw struct {
			Sandbox string `json:"sandbox"`
			Frame   string `json:"frame"`   // set when the tag's own frame reported it
			Scripts bool   `json:"scripts"` // the page's scripts run in that frame
			Opaque  bool   `json:"opaque"`  // that frame's origin is opaque
		}
		_ = json.Unmarshal(e.Data, &raw)
		b := BlockedData{How: BlockedSandbox, Directive: d.Redact.Text(raw.Sandbox), Source: "recorder"}
		if raw.Frame != "" {
			b.Source, b.FrameURL, b.Opaque = "frame", d.Redact.Text(raw.Frame), raw.Opaque && raw.Scripts
		}
		rec(timeline.Page, timeline.PageBlocked, "", b)
	case emRemoved:
		var raw struct {
			Frame   int  `json:"frame"`
			DivGone bool `json:"div_gone"`
		}
		if json.Unmarshal(e.Data, &raw) != nil {
			return
		}
		rec(timeline.Kit, timeline.PageBlocked, e.Div, BlockedData{How: BlockedDivRemoved, Frame: raw.Frame, DivGone: raw.DivGone, Source: "kit"})
	case emKitLoaded:
		var p KitLoadedData
		_ = json.Unmarshal(e.Data, &p)
		rec(timeline.Kit, timeline.KitLoaded, "", p)
	case emCreate:
		var p CreateIframeData
		if json.Unmarshal(e.Data, &p) != nil {
			return
		}
		rec(timeline.Kit, timeline.CreateIframe, e.Div, p)
	case emLoaded:
		var p FrameData
		_ = json.Unmarshal(e.Data, &p)
		rec(timeline.Kit, timeline.IframeLoaded, e.Div, p)
	case emSetMeta:
		var raw struct {
			Type      any    `json:"type"`
			DivKind   string `json:"div_kind"`
			TokenType string `json:"token_type"`
			Token     any    `json:"token"`
			Queued    bool   `json:"queued"`
		}
		if json.Unmarshal(e.Data, &raw) != nil {
			return
		}
		p := SetMetaDataData{Type: raw.Type, DivKind: raw.DivKind, TokenType: raw.TokenType, Queued: raw.Queued}
		if s, ok := raw.Type.(string); ok && s != "JWT" {
			p.Type = d.Redact.Text(s)
		}
		if s, ok := raw.Token.(string); ok {
			p.Fingerprint, p.Length = d.Redact.Token(s, e.Div), len(s)
		} else if head, n, ok := BigString(raw.Token); ok {
			p.Fingerprint, p.Length = d.Redact.Token(head, e.Div), n
		}
		rec(timeline.Kit, timeline.SetMetaData, e.Div, p)
	case emSent:
		var raw struct {
			HasMeta bool `json:"has_meta"`
			Frame   int  `json:"frame"`
		}
		_ = json.Unmarshal(e.Data, &raw)
		rec(timeline.Kit, timeline.PostMessage, e.Div, PostMessageData{Type: "qualifio:metaData", Direction: "to-campaign", HasMeta: &raw.HasMeta, Frame: raw.Frame})
	case emKitError, emUnknown, emInvalid:
		var raw struct {
			Name    any `json:"name"`
			Message any `json:"message"`
		}
		_ = json.Unmarshal(e.Data, &raw)
		p := CommandData{Error: e.Ev}
		if raw.Name != nil {
			p.Name = d.Redact.Text(fmt.Sprint(raw.Name))
		}
		if raw.Message != nil {
			p.Message = d.Redact.Text(fmt.Sprint(raw.Message))
		}
		rec(timeline.Kit, timeline.Command, e.Div, p)
	}
}

// command returns a command's name and the div it concerns.
func (d *Decoder) command(args []any) (name, div string) {
	if len(args) > 0 {
		name, _ = args[0].(string)
	}
	switch {
	case name == "setMetaData" && len(args) > 3:
		div, _ = args[3].(string)
	case name == "createIframe" && len(args) > 1:
		div, _ = args[1].(string)
	}
	return name, div
}

// redactArgs replaces the token of a setMetaData by its fingerprint (unless
// Reveal) and scrubs every other string.
func (d *Decoder) redactArgs(name, div string, args []any) []any {
	red := make([]any, len(args))
	for i, a := range args {
		if head, n, ok := BigString(a); ok {
			red[i] = map[string]any{"fingerprint": d.Redact.Token(head, div), "length": n, "truncated": true}
			continue
		}
		switch v := a.(type) {
		case string:
			if name == "setMetaData" && i == 2 {
				red[i] = d.Redact.Token(v, div)
				if d.Redact.Reveal() {
					red[i] = v
				}
			} else {
				red[i] = d.Redact.Text(v)
			}
		default:
			red[i] = v
		}
	}
	return red
}

// BigString reads the description the recorder and the kit send instead of
// a string over 64 KiB: its head and its length.
func BigString(v any) (head string, length int, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || m["__t"] != "big" {
		return "", 0, false
	}
	head, _ = m["head"].(string)
	n, _ := m["length"].(float64)
	return head, int(n), true
}
