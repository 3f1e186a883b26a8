package observe

import (
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

type fakeRedactor struct{ reveal bool }

func (fakeRedactor) Token(raw, div string) string { return finding.Fingerprint(raw) }
func (fakeRedactor) Text(s string) string         { return strings.ReplaceAll(s, "secret", "•") }
func (f fakeRedactor) Reveal() bool               { return f.reveal }

// What the recorder and the kit emit becomes typed, redacted timeline
// events; the raw token never reaches the timeline.
func TestDecoderTypesAndRedacts(t *testing.T) {
	rec := timeline.New()
	d := &Decoder{Rec: rec, Redact: fakeRedactor{}}
	tok := "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.sig"
	for _, p := range []string{
		`{"src":"page","ev":"command","data":{"how":"queued","args":["setMetaData","JWT","` + tok + `","div1"]}}`,
		`{"src":"kit","ev":"createIframe","div":"div1","data":{"host":"jeux.example.test","found":true,"div_kind":"string","frame":2}}`,
		`{"src":"kit","ev":"setMetaData","div":"div1","data":{"type":"JWT","div_kind":"string","token":"` + tok + `","token_type":"string"}}`,
		`{"src":"kit","ev":"metadata.sent","div":"div1","data":{"has_meta":true,"frame":2}}`,
		`{"src":"page","ev":"dom","data":{"tag":"a","id":"secret-link","role":"alert","near":"div1","session":true,"consent":false,"text_len":6}}`,
		`{"src":"page","ev":"iframe","data":{"host":"jeux.example.test","path":"/c/G1/v1.cfm"}}`,
		`{"src":"kit","ev":"kit.error","data":{"message":"secret failure"}}`,
		`not json`,
		`{"src":"page","ev":"unknown"}`,
	} {
		d.Handle(p)
	}
	evs := rec.Events()
	if len(evs) != 7 {
		t.Fatalf("%d events, want 7: %+v", len(evs), evs)
	}
	for _, e := range evs {
		if strings.Contains(toString(e.Data), tok) {
			t.Fatalf("raw token on the timeline: %v", e)
		}
	}
	cmd := Decode[CommandData](evs[0])
	if cmd.Name != "setMetaData" || cmd.How != "queued" || evs[0].Campaign != "div1" || cmd.Args[2] != finding.Fingerprint(tok) {
		t.Fatalf("command = %+v (%s)", cmd, evs[0].Campaign)
	}
	if c := Decode[CreateIframeData](evs[1]); !c.Found || c.Frame != 2 || c.Host != "jeux.example.test" {
		t.Fatalf("createIframe = %+v", c)
	}
	if s := Decode[SetMetaDataData](evs[2]); s.Fingerprint != finding.Fingerprint(tok) || s.Length != len(tok) || s.Type != "JWT" {
		t.Fatalf("setMetaData = %+v", s)
	}
	if m := Decode[PostMessageData](evs[3]); m.HasMeta == nil || !*m.HasMeta || m.Frame != 2 || m.Direction != "to-campaign" {
		t.Fatalf("metadata.sent = %+v", m)
	}
	if r := Decode[DOMData](evs[4]); r.Kind != ReactDOM || !r.Session || r.Near != "div1" || r.Role != "alert" || r.ID != "•-link" {
		t.Fatalf("dom = %+v", r)
	}
	if f := Decode[IframeData](evs[5]); evs[5].Event != timeline.PageIframe || f.Host != "jeux.example.test" {
		t.Fatalf("iframe = %+v", f)
	}
	if k := Decode[CommandData](evs[6]); k.Error != "kit.error" || k.Message != "• failure" {
		t.Fatalf("kit error = %+v", k)
	}
}

// A payload of the wrong type leaves only that field zero: a hostile page
// cannot make the judgement fail, only see its own data ignored.
func TestDecodeKeepsWhatFits(t *testing.T) {
	e := timeline.Event{Data: map[string]any{"host": "jeux.example.test", "found": "yes", "frame": 3}}
	c := Decode[CreateIframeData](e)
	if c.Host != "jeux.example.test" || c.Found || c.Frame != 3 {
		t.Fatalf("decoded %+v", c)
	}
}

func toString(m map[string]any) string {
	var b strings.Builder
	for k, v := range m {
		b.WriteString(k)
		b.WriteString("=")
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(fmtAny(v), "\n", " ")))
	}
	return b.String()
}

func fmtAny(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var parts []string
		for _, p := range x {
			parts = append(parts, fmtAny(p))
		}
		return strings.Join(parts, ",")
	case map[string]any:
		return toString(x)
	}
	return ""
}

// Tampering observations and relay drops are typed; an event stamped in
// the future (or before the run) is placed at its arrival, never earlier
// or later than Go saw it.
func TestDecoderTamperAndClock(t *testing.T) {
	rec := timeline.New()
	d := &Decoder{Rec: rec, Redact: fakeRedactor{}}
	d.Handle(`{"src":"page","ev":"tamper","div":"div1","t":1,"data":{"what":"message.swallowed","name":"qualifio:getMetaData"}}`)
	d.Handle(`{"src":"page","ev":"relay.dropped","t":9e15,"data":{"count":7,"why":"rate"}}`)
	evs := rec.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2: %+v", len(evs), evs)
	}
	tp := Decode[TamperData](evs[0])
	if evs[0].Event != timeline.Tampered || evs[0].Campaign != "div1" || tp.What != TamperSwallowed || tp.Name != "qualifio:getMetaData" {
		t.Fatalf("tamper event %+v", evs[0])
	}
	if dr := Decode[RelayDroppedData](evs[1]); evs[1].Event != timeline.RelayDropped || dr.Count != 7 {
		t.Fatalf("relay.dropped event %+v", evs[1])
	}
	now := rec.Now()
	for _, e := range evs {
		if e.TMs < 0 || e.TMs > now {
			t.Fatalf("event %s at %v, outside [0, %v]", e.Event, e.TMs, now)
		}
	}
}

// Both scripts get the profile's campaign hosts and the one rule of which
// frames are followed (frames.js): the frames on those hosts are the
// campaigns' own, which neither the recorder nor the page shim follows.
func TestScriptsKnowTheCampaignHosts(t *testing.T) {
	for name, js := range map[string]string{"recorder": RecorderJS("Jeux.Example.test"), "page": PageJS("Jeux.Example.test")} {
		if !strings.Contains(js, `var HOSTS = ["jeux.example.test"];`) || strings.Contains(js, "/*qualcert:hosts*/") {
			t.Errorf("%s script: the campaign hosts are not filled in", name)
		}
		if strings.Count(js, "function followedFrame()") != 1 || strings.Contains(js, "/*qualcert:frames*/") {
			t.Errorf("%s script: the shared frame rule (frames.js) is not put in once", name)
		}
	}
	for name, js := range map[string]string{"recorder": RecorderJS(), "page": PageJS()} {
		if !strings.Contains(js, "var HOSTS = null; /*qualcert:hosts*/") {
			t.Errorf("%s script without hosts: the placeholder is gone", name)
		}
	}
}
