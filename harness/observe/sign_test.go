package observe

import (
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/timeline"
)

type plainRedactor struct{}

func (plainRedactor) Token(raw, div string) string { return "sha256:test" }
func (plainRedactor) Text(s string) string         { return strings.ReplaceAll(s, "secret", "•••") }
func (plainRedactor) Reveal() bool                 { return false }

// Signs of a campaign become page.campaign_sign events (what the settle
// rules wait on); a kind the recorder does not send is dropped, since a
// page can call the binding too.
func TestDecodeSigns(t *testing.T) {
	rec := timeline.New()
	d := &Decoder{Rec: rec, Redact: plainRedactor{}}
	d.Handle(`{"src":"page","ev":"sign","data":{"kind":"div","what":"qualifio_insert_place_1"}}`)
	d.Handle(`{"src":"page","ev":"sign","data":{"kind":"script","what":"//jeux.example.com/kit/qualp.2.min.js?secret"}}`)
	d.Handle(`{"src":"page","ev":"sign","data":{"kind":"anything","what":"x"}}`)
	d.Handle(`{"src":"page","ev":"sign","data":"not an object"}`)
	evs := timeline.Find(rec.Events(), timeline.CampaignSign, "")
	if len(evs) != 2 {
		t.Fatalf("%d sign events, want 2: %v", len(evs), evs)
	}
	if s := Decode[SignData](evs[0]); s.Kind != SignDiv || s.What != "qualifio_insert_place_1" {
		t.Errorf("first sign = %+v", s)
	}
	if s := Decode[SignData](evs[1]); s.Kind != SignScript || strings.Contains(s.What, "secret") {
		t.Errorf("second sign = %+v, want its text redacted", s)
	}
}
