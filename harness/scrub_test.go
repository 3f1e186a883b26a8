package harness

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
)

func TestNotedValuesAreScrubbedWholeWordsOnly(t *testing.T) {
	defer finding.ForgetSecrets()
	values := []string{"ada@example.com", "Ann", "1991-06-14", "at-7f3c9e"}
	for _, v := range values {
		finding.NoteSecret(v)
	}
	in := "login ok for Ann (ada@example.com), born 1991-06-14; GET /pixel?u=ada%40example.com#access_token=at-7f3c9e — Announcement"
	out := finding.RedactText(in)
	rest := strings.ReplaceAll(out, "Announcement", "") // the one word that may keep "Ann"
	for _, v := range append(values, "ada%40example.com") {
		if strings.Contains(rest, v) {
			t.Errorf("%q survived: %s", v, out)
		}
	}
	if !strings.Contains(out, "Announcement") {
		t.Errorf("a word containing a value was mangled: %s", out)
	}
	if !strings.Contains(out, finding.Fingerprint("ada@example.com")) {
		t.Errorf("the e-mail was not replaced by its fingerprint: %s", out)
	}
}

// A frame the masking could not reach is said on the evidence.masked
// event, with its origin and why, beside the places and frames masked:
// never skipped in silence.
func TestMaskedDataSaysUnmaskedFrames(t *testing.T) {
	frames := []browser.FrameEval{
		{Origin: "http://127.0.0.1:8080", Value: json.RawMessage("1")},
		{Origin: "http://localhost:9090", Value: json.RawMessage("2")},
		{Origin: "https://ads.example", Value: json.RawMessage("0")},
		{Origin: "http://widget.example", OutOfProcess: true, Err: errors.New("creating an isolated world: frame detached")},
	}
	d := maskedData(frames)
	if d["masked"] != "3" || d["frames"] != 3 || d["frames_masked"] != 2 {
		t.Errorf("masked data = %v, want 3 places in 2 of 3 frames", d)
	}
	un, _ := d["unmasked"].([]map[string]any)
	if len(un) != 1 || un[0]["origin"] != "http://widget.example" || un[0]["out_of_process"] != true {
		t.Errorf("unmasked = %v, want the widget's frame", d["unmasked"])
	}
	if e, _ := d["error"].(string); !strings.Contains(e, "1 frame(s)") || !strings.Contains(e, "frame detached") {
		t.Errorf("error = %q, want the frame left unmasked said", e)
	}
	if d := maskedData(frames[:1]); d["error"] != nil || d["unmasked"] != nil {
		t.Errorf("every frame masked, yet %v", d)
	}
}
