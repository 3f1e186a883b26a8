package main

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/qualcert/qualcert/harness/dnstest"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// run runs the CLI in-process and returns exit code, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, resolver: dnstest.NXDomain()}, args)
	return code, out.String(), errb.String()
}

// fixture generates a signing and an encryption key pair with the CLI and
// writes a claims file carrying participant values.
type fixture struct {
	dir, sig, enc, claims string
}

const (
	secretEmail = "ada.lovelace@example.com"
	secretSub   = "participant-7731"
)

func newFixture(t *testing.T) fixture {
	t.Helper()
	dir := t.TempDir()
	f := fixture{dir: dir, sig: filepath.Join(dir, "sig"), enc: filepath.Join(dir, "enc"), claims: filepath.Join(dir, "claims.json")}
	if code, _, stderr := run(t, "", "keys", "generate", "--alg", "ES256", "--out", f.sig, "--kid", "sig1"); code != 0 {
		t.Fatalf("keys generate: %d %s", code, stderr)
	}
	if code, _, stderr := run(t, "", "keys", "generate", "--alg", "ECDH-ES+A256KW", "--out", f.enc); code != 0 {
		t.Fatalf("keys generate: %d %s", code, stderr)
	}
	claims := map[string]any{"iss": "example-media", "sub": secretSub, "campaignId": "945644",
		"form": map[string]any{"email": secretEmail, "firstname": "Ada", "lastname": "Lovelace"}}
	b, _ := json.Marshal(claims)
	if err := os.WriteFile(f.claims, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) mint(t *testing.T, extra ...string) string {
	t.Helper()
	args := append([]string{"token", "mint", "--claims", f.claims, "--key", filepath.Join(f.sig, "private.jwk")}, extra...)
	code, out, stderr := run(t, "", args...)
	if code != 0 {
		t.Fatalf("token mint: %d %s", code, stderr)
	}
	return strings.TrimSpace(out)
}

func assertNoSecrets(t *testing.T, tok, output string) {
	t.Helper()
	for _, s := range []string{tok, secretEmail, secretSub, "Lovelace"} {
		if strings.Contains(output, s) {
			t.Fatalf("output reveals %q without --reveal:\n%s", s, output)
		}
	}
}

func TestVerifyValidTokenExit0AndRedacted(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	pub := filepath.Join(f.sig, "public.pem")
	// token on stdin, with surrounding whitespace
	code, out, stderr := run(t, "\n  "+tok+"  \n", "verify", "--key", pub, "--iss", "example-media", "--campaign-id", "945644")
	if code != exitOK || !strings.Contains(out, "VALID") || !strings.Contains(out, `"alg":"ES256"`) {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	assertNoSecrets(t, tok, out+stderr)
	if !strings.Contains(out, "email, firstname, lastname") {
		t.Fatalf("field names missing:\n%s", out)
	}
	// token as argument, flags after it; "-" reads stdin
	if code, _, _ := run(t, "", "verify", tok, "--jwks", filepath.Join(f.sig, "jwks.json"), "--iss", "example-media"); code != exitOK {
		t.Fatalf("token as argument: exit %d", code)
	}
	if code, _, _ := run(t, tok, "verify", "-", "--key", pub); code != exitOK {
		t.Fatalf("token on stdin via -: exit %d", code)
	}
	// --reveal shows values
	_, out, _ = run(t, tok, "verify", "--key", pub, "--reveal")
	if !strings.Contains(out, secretEmail) {
		t.Fatalf("--reveal does not show the email:\n%s", out)
	}
}

func TestVerifyInvalidExit1WithHints(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	code, out, stderr := run(t, tok, "verify", "--key", filepath.Join(f.sig, "public.pem"), "--iss", "someone-else", "--campaign-id", "1")
	if code != exitFailed || !strings.Contains(out, "INVALID") {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{"token.iss_mismatch", "token.campaign_mismatch", "R-TOKEN-6", "hint: "} {
		if !strings.Contains(out, want) {
			t.Fatalf("output lacks %q:\n%s", want, out)
		}
	}
	assertNoSecrets(t, tok, out+stderr)

	// a forged signature: a key pair the verifier does not trust
	other := t.TempDir()
	run(t, "", "keys", "generate", "--alg", "ES256", "--out", other, "--kid", "sig1")
	forged := strings.TrimSpace(func() string {
		_, o, _ := run(t, "", "token", "mint", "--claims", f.claims, "--key", filepath.Join(other, "private.jwk"))
		return o
	}())
	code, out, _ = run(t, forged, "verify", "--key", filepath.Join(f.sig, "public.pem"))
	if code != exitFailed || !strings.Contains(out, "token.signature_invalid") {
		t.Fatalf("forged: exit %d\n%s", code, out)
	}
	// garbage
	code, out, _ = run(t, "not a token", "verify", "--key", filepath.Join(f.sig, "public.pem"))
	if code != exitFailed || !strings.Contains(out, "token.malformed") {
		t.Fatalf("garbage: exit %d\n%s", code, out)
	}
}

func TestVerifyJSON(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, "--encrypt", "--encrypt-key", filepath.Join(f.enc, "public.pem"))
	code, out, stderr := run(t, tok, "verify", "--jwks", filepath.Join(f.sig, "jwks.json"), "--decrypt-key", filepath.Join(f.enc, "private.pem"),
		"--iss", "example-media", "--alg", "ES256,RS256", "--alg", "EdDSA", "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json is not one JSON object: %v\n%s", err, out)
	}
	if doc["valid"] != true || doc["format"] != "nested" || doc["fingerprint"] == "" {
		t.Fatalf("document %v", doc)
	}
	assertNoSecrets(t, tok, out+stderr)
	_, out, _ = run(t, tok, "verify", "--jwks", filepath.Join(f.sig, "jwks.json"), "--decrypt-key", filepath.Join(f.enc, "private.pem"), "--json", "--reveal")
	if !strings.Contains(out, secretEmail) || !strings.Contains(out, "revealed_claims") {
		t.Fatalf("--json --reveal:\n%s", out)
	}
}

func TestVerifyUsageExit2(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	pub := filepath.Join(f.sig, "public.pem")
	for name, args := range map[string][]string{
		"unknown flag":      {"verify", "--kee", pub, tok},
		"two tokens":        {"verify", "--key", pub, tok, tok},
		"missing key file":  {"verify", "--key", filepath.Join(f.dir, "nope.pem"), tok},
		"forbidden --alg":   {"verify", "--key", pub, "--alg", "none", tok},
		"HS without secret": {"verify", "--key", pub, "--alg", "HS256", tok},
		"bad profile":       {"verify", "--profile", f.claims, tok},
	} {
		code, out, stderr := run(t, "", args...)
		if code != exitUsage {
			t.Errorf("%s: exit %d, want 2\n%s%s", name, code, out, stderr)
		}
		if strings.Contains(out+stderr, tok) {
			t.Errorf("%s: the token is echoed", name)
		}
	}
	if code, _, stderr := run(t, "   \n", "verify", "--key", pub); code != exitUsage || !strings.Contains(stderr, "no token") {
		t.Errorf("empty stdin: exit %d %s", code, stderr)
	}
	code, out, _ := run(t, "", "verify", "--help")
	if code != exitOK || !strings.Contains(out, "--secret-file") || !strings.Contains(out, "Exit status") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}

func TestVerifyWithProfile(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	profilePath := filepath.Join(f.dir, "profile.yaml")
	profileYAML := `page: {url: "https://www.example.com/"}
campaigns: [{div_id: d1, host: jeux.example.com, campaign_id: "945644"}]
token: {issuer: example-media, jwks_file: sig/jwks.json}
fields: {required: [email, firstname, lastname, phone]}
`
	if err := os.WriteFile(profilePath, []byte(profileYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, tok, "verify", "--profile", profilePath)
	if code != exitFailed || !strings.Contains(out, "pii.field_missing") || !strings.Contains(out, `"phone"`) {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	assertNoSecrets(t, tok, out+stderr)
}

func TestVerifyJWKSURLAndMintFromProfile(t *testing.T) {
	f := newFixture(t)
	jwks, err := os.ReadFile(filepath.Join(f.sig, "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jwks) }))
	defer srv.Close()
	profilePath := filepath.Join(f.dir, "p.yaml")
	profileYAML := "page: {url: \"https://www.example.com/\"}\n" +
		"campaigns: [{div_id: d1, host: jeux.example.com, campaign_id: \"555\"}]\n" +
		"token: {issuer: minted-from-profile, jwks_url: \"" + srv.URL + "/jwks.json\"}\n"
	if err := os.WriteFile(profilePath, []byte(profileYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	// claims without iss and campaignId: mint fills them from the profile
	bare := filepath.Join(f.dir, "bare.json")
	_ = os.WriteFile(bare, []byte(`{"sub":"1","form":{"email":"qa@example.com"}}`), 0o600)
	code, tok, stderr := run(t, "", "token", "mint", "--profile", profilePath, "--claims", bare, "--key", filepath.Join(f.sig, "private.pem"), "--kid", "sig1")
	if code != exitOK {
		t.Fatalf("mint: %d %s", code, stderr)
	}
	code, out, stderr := run(t, tok, "verify", "--profile", profilePath)
	if code != exitOK {
		t.Fatalf("verify with jwks_url profile: exit %d\n%s%s", code, out, stderr)
	}
	code, out, _ = run(t, tok, "verify", "--jwks", srv.URL+"/jwks.json", "--iss", "minted-from-profile", "--campaign-id", "555")
	if code != exitOK {
		t.Fatalf("verify --jwks URL: exit %d\n%s", code, out)
	}
}

// Expectations given with the same value must each be checked: a wrong
// issuer must not pass because --aud or --campaign-id happens to equal --iss.
func TestVerifyChecksEveryExpectationEvenWithEqualValues(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t) // iss example-media, campaignId 945644, no aud
	pub := filepath.Join(f.sig, "public.pem")
	for _, args := range [][]string{
		{"--iss", "other", "--aud", "other"},
		{"--iss", "945644", "--campaign-id", "945644"},
	} {
		code, out, _ := run(t, tok, append([]string{"verify", "--key", pub}, args...)...)
		if code != exitFailed || !strings.Contains(out, "token.iss_mismatch") {
			t.Errorf("verify %v: exit %d, want 1 with token.iss_mismatch:\n%s", args, code, out)
		}
	}
	// and a VALID without expectations says what it did not check
	code, out, _ := run(t, tok, "verify", "--key", pub)
	if code != exitOK || !strings.Contains(out, "VALID (iss not checked, campaignId not compared)") {
		t.Errorf("exit %d, the verdict line does not say what was not checked:\n%s", code, out)
	}
}

func TestVersionOnEverySubcommand(t *testing.T) {
	for _, c := range commands {
		code, out, stderr := run(t, "", c.name, "--version")
		if code != exitOK || !strings.Contains(out, "qualcert "+Version) {
			t.Errorf("qualcert %s --version: exit %d, %q %q", c.name, code, out, stderr)
		}
	}
}
