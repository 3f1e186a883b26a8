package finding

import (
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
var additions = map[Code]bool{EnvLoginFailed: true, EnvInterrupted: true, CampaignIframeHTML: true}

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

func TestFingerprint(t *testing.T) {
	// sha256("abc") = ba7816bf8f01cfea…
	if got := Fingerprint("abc"); got != "sha256:ba7816bf8f01" {
		t.Fatalf("Fingerprint(abc) = %s", got)
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
