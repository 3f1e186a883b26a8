package finding

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// contractSection4 is a copy of CONTRACT §4, kept beside the test so that CI
// (which may not have the shared folder) still checks the catalogue against
// it; TestContractCopyIsCurrent keeps the copy honest where the folder exists.
func contractSection4(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/contract-section4.md")
	if err != nil {
		t.Fatalf("reading the copy of CONTRACT §4: %v", err)
	}
	return string(b)
}

func TestContractCopyIsCurrent(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "shared", "CONTRACT.md"))
	if err != nil {
		t.Skipf("shared CONTRACT.md not beside the checkout: %v", err)
	}
	s := string(b)
	start := strings.Index(s, "## 4. Finding codes")
	end := strings.Index(s, "## 5.")
	if start < 0 || end < start {
		t.Fatal("CONTRACT.md has no §4 section")
	}
	if got, want := strings.TrimSpace(s[start:end]), strings.TrimSpace(contractSection4(t)); got != want {
		t.Fatal("testdata/contract-section4.md differs from CONTRACT §4: refresh the copy and the catalogue")
	}
}

// additions are the codes qualcert added beyond CONTRACT §4 ("add codes
// freely; never rename one"); each is documented in docs/codes.md, generated
// from the catalogue.
var additions = map[Code]bool{EnvLoginFailed: true, EnvReplayMissing: true, UserInfoNotChecked: true, EnvKeySource: true, EnvInterrupted: true, CampaignIframeHTML: true, PageHarnessTampered: true,
	EnvPageNotHTML: true, CampaignBlockedByPage: true, TokenLeakUnchecked: true}

// Every code of CONTRACT §4 is in the catalogue at the contract's level, and
// the catalogue has no code the contract does not know (add them there first).
func TestCatalogueMatchesContract(t *testing.T) {
	text := contractSection4(t)
	withLevel := regexp.MustCompile("`([a-z_]+\\.[a-z_]+)` \\[(must|should|info)")
	any := regexp.MustCompile("`([a-z_]+\\.[a-z_]+)`")
	levels := map[Code]Level{}
	for _, m := range withLevel.FindAllStringSubmatch(text, -1) {
		levels[Code(m[1])] = Level(m[2])
	}
	inContract := map[Code]bool{}
	for _, m := range any.FindAllStringSubmatch(text, -1) {
		inContract[Code(m[1])] = true
	}
	if len(inContract) < 50 {
		t.Fatalf("parsed only %d codes from CONTRACT §4: the parser is broken", len(inContract))
	}
	for c := range inContract {
		spec, ok := Lookup(c)
		if !ok {
			t.Errorf("CONTRACT §4 code %s is missing from the catalogue", c)
			continue
		}
		if want, ok := levels[c]; ok && spec.Level != want {
			t.Errorf("%s: catalogue level %s, contract %s", c, spec.Level, want)
		}
	}
	for _, c := range Codes() {
		if !inContract[c] && !additions[c] {
			t.Errorf("catalogue code %s is not in CONTRACT §4 nor among qualcert's documented additions", c)
		}
	}
}

func TestEverySpecIsExplainable(t *testing.T) {
	for _, c := range Codes() {
		s, _ := Lookup(c)
		if _, ok := RequirementByID(s.Requirement); !ok {
			t.Errorf("%s names unknown requirement %q", c, s.Requirement)
		}
		if len(s.Hint) < 20 || len(s.Summary) < 10 {
			t.Errorf("%s: hint or summary too thin to act on: %q / %q", c, s.Hint, s.Summary)
		}
	}
	for _, r := range Requirements() {
		if len(CodesOf(r.ID)) == 0 {
			t.Errorf("requirement %s is enforced by no code", r.ID)
		}
	}
}

func TestNewFillsFromCatalogue(t *testing.T) {
	f := New(SetMetaDataLate, "setMetaData arrived %d ms after getMetaData", 840).WithCampaign("div1")
	if f.Level != Must || f.Requirement != "R-SETMETADATA-2" || f.Hint == "" || f.Campaign != "div1" {
		t.Fatalf("unexpected finding %+v", f)
	}
	if f.Message != "setMetaData arrived 840 ms after getMetaData" {
		t.Fatalf("message %q", f.Message)
	}
	if got := New(TokenExpired, "").Message; got == "" {
		t.Fatal("an empty message must fall back to the code's summary")
	}
	if New(SetMetaDataDivIDMissing, "x").WithLevel(Should).Level != Should {
		t.Fatal("WithLevel did not change the level")
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an unknown code must panic")
		}
	}()
	New(Code("token.nope"), "x")
}

func TestHasMustIgnoresAllowed(t *testing.T) {
	fs := []Finding{New(TokenExpMissing, "x"), New(TokenExpired, "x")}
	if !HasMust(fs) {
		t.Fatal("a must finding was not seen")
	}
	fs[1].Allowed = "known clock skew on staging"
	if HasMust(fs) {
		t.Fatal("an allowed must finding still fails")
	}
}

func TestSortOrdersByLevelCampaignCode(t *testing.T) {
	fs := []Finding{
		New(PIIUnknownField, "x"),
		New(TokenExpMissing, "x").WithCampaign("b"),
		New(TokenSubMissing, "x").WithCampaign("b"),
		New(TokenExpired, "x").WithCampaign("a"),
	}
	Sort(fs)
	got := []Code{fs[0].Code, fs[1].Code, fs[2].Code, fs[3].Code}
	want := []Code{TokenExpired, TokenSubMissing, TokenExpMissing, PIIUnknownField}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order %v, want %v", got, want)
		}
	}
}

// TestFingerprintIsKeyed: a fingerprint is stable within a run, differs
// from the bare SHA-256 that a brute force of low-entropy values would
// reproduce, and changes with the run's key.
func TestFingerprintIsKeyed(t *testing.T) {
	got := Fingerprint("1990-01-01")
	if !IsFingerprint(got) || !strings.HasPrefix(got, "hmac:") || Fingerprint("1990-01-01") != got {
		t.Fatalf("Fingerprint = %s", got)
	}
	bare := sha256.Sum256([]byte("1990-01-01"))
	if strings.Contains(got, hex.EncodeToString(bare[:])[:12]) {
		t.Fatal("the fingerprint is the bare SHA-256 of the value: reversible by brute force")
	}
	saved := runKey
	runKey = []byte("another run")
	other := Fingerprint("1990-01-01")
	runKey = saved
	if other == got {
		t.Fatal("the fingerprint does not depend on the run's key")
	}
	if !IsFingerprint("sha256:0123456789ab") || IsFingerprint("hmac:xyz") {
		t.Fatal("IsFingerprint")
	}
}

// TestRedactTextScrubsNotedSecrets: every value noted in the run is
// scrubbed in each form a page may write it, and a token whose JSON starts
// with a space (no "eyJ") too.
func TestRedactTextScrubsNotedSecrets(t *testing.T) {
	defer ForgetSecrets()
	email, postcode := "ada.lovelace@example.com", "1050"
	header := base64.RawURLEncoding.EncodeToString([]byte(`{ "alg": "ES256" }`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{ "sub": "p-7731" }`))
	tok := header + "." + payload + ".c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	NoteSecret(email)
	NoteSecret("Lovelace")
	NoteSecret(postcode)
	NoteSecret(tok)
	NoteSecret("M") // too short to scrub: left alone
	texts := map[string]string{
		"plain":       "user " + email + " logged in",
		"upper":       "USER " + strings.ToUpper(email),
		"query":       "https://t.example/?u=" + url.QueryEscape(email) + "&x=1",
		"joined":      "?u=" + url.QueryEscape("945644,"+postcode+","+email),
		"base64":      "id=" + base64.StdEncoding.EncodeToString([]byte(email)),
		"base64url":   "id=" + base64.RawURLEncoding.EncodeToString([]byte(email)),
		"name":        "Hello LOVELACE, welcome",
		"postcode":    "zip:1050;",
		"token":       "token " + tok,
		"payload":     "payload=" + payload,
		"space token": " " + header + "." + payload + ".xyz",
	}
	for name, text := range texts {
		got := RedactText(text)
		for _, secret := range []string{email, strings.ToUpper(email), url.QueryEscape(email), base64.StdEncoding.EncodeToString([]byte(email)),
			"Lovelace", "LOVELACE", postcode, tok, header, payload} {
			if strings.Contains(got, secret) {
				t.Errorf("%s: %q still holds %q", name, got, secret)
			}
		}
		if !strings.Contains(got, "[redacted hmac:") {
			t.Errorf("%s: %q has no redaction mark", name, got)
		}
	}
	if got := RedactText("Announcement: M is 10500 and Lovelaces"); got != "Announcement: M is 10500 and Lovelaces" {
		t.Errorf("whole words only: %q", got)
	}
	// every form of one value gets the value's own fingerprint
	if a, b := RedactText(email), RedactText(strings.ToUpper(email)); a != b || a != "[redacted "+Fingerprint(email)+"]" {
		t.Errorf("%q and %q differ", a, b)
	}
}

func TestRedactHeader(t *testing.T) {
	h := map[string]any{"alg": "ES256", "kid": "ada@example.com", "typ": "JWT", "x-user": "Ada Lovelace", "nested": map[string]any{"mail": "a"}}
	got := RedactHeader(h)
	if got["alg"] != "ES256" || got["typ"] != "JWT" {
		t.Errorf("public members: %v", got)
	}
	for _, k := range []string{"kid", "x-user"} {
		if s, _ := got[k].(string); strings.Contains(s, "@") || strings.Contains(s, "Ada") {
			t.Errorf("%s: %v", k, got[k])
		}
	}
	if m := got["nested"].(map[string]any); !IsFingerprint(m["mail"].(string)) {
		t.Errorf("nested: %v", got["nested"])
	}
}

func TestOutcomesSortAfterTheirCauses(t *testing.T) {
	fs := []Finding{
		New(CampaignBlocked, "x").WithCampaign("a"),
		New(TokenExpired, "x").WithCampaign("a"),
		New(CampaignBlocked, "x").WithCampaign("b"),
		New(SetMetaDataLate, "x").WithCampaign("b"),
	}
	Sort(fs)
	want := []Code{TokenExpired, CampaignBlocked, SetMetaDataLate, CampaignBlocked}
	for i := range want {
		if fs[i].Code != want[i] {
			t.Fatalf("position %d: %s, want %s (%v)", i, fs[i].Code, want[i], fs)
		}
	}
}

func TestRedactText(t *testing.T) {
	jws := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	payload := "eyJzdWIiOiJhbGljZSJ9"
	for in, want := range map[string]string{
		"token " + jws + " seen":            "token [redacted " + Fingerprint(jws) + "] seen",
		"payload " + payload:                "payload [redacted " + Fingerprint(payload) + "]",
		"mail jane.doe@example.org here":    "mail [redacted " + Fingerprint("jane.doe@example.org") + "] here",
		"setMetaData arrived 840 ms late":   "setMetaData arrived 840 ms late",
		"https://jeux.example.com/campaign": "https://jeux.example.com/campaign",
	} {
		if got := RedactText(in); got != want {
			t.Errorf("RedactText(%q) = %q, want %q", in, got, want)
		}
	}
}
