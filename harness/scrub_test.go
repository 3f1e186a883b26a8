package harness

import (
	"strings"
	"testing"

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
