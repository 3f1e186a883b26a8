package main

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Without a key, verify decodes: the header and redacted claims, NOT
// VERIFIED on the verdict line, exit 4; --json says so too; no participant
// value appears without --reveal.
func TestVerifyDecodeOnly(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	code, out, stderr := run(t, tok, "verify")
	if code != exitNotVerified || !strings.Contains(out, "NOT VERIFIED") || !strings.Contains(out, `"kid":"sig1"`) || !strings.Contains(out, "example-media") {
		t.Fatalf("decode only: exit %d\n%s%s", code, out, stderr)
	}
	assertNoSecrets(t, tok, out+stderr)

	code, out, stderr = run(t, tok, "verify", "--json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json is not JSON: %v\n%s", err, out)
	}
	if code != exitNotVerified || doc["verdict"] != "not_verified" || doc["valid"] != false || doc["unverified"] != true {
		t.Fatalf("--json decode only: exit %d %v", code, doc)
	}
	assertNoSecrets(t, tok, out+stderr)

	_, out, _ = run(t, tok, "verify", "--reveal")
	if !strings.Contains(out, secretEmail) {
		t.Fatalf("--reveal did not reveal:\n%s", out)
	}
	// a must finding makes the token invalid whatever the key
	code, out, _ = run(t, tok, "verify", "--iss", "someone-else")
	if code != exitFailed || !strings.Contains(out, "token.iss_mismatch") || !strings.Contains(out, "INVALID") {
		t.Fatalf("decode only with a wrong iss: exit %d\n%s", code, out)
	}
	// the help documents the exit code
	_, out, _ = run(t, "", "verify", "--help")
	if !strings.Contains(out, "4  decoded only, NOT VERIFIED") {
		t.Fatalf("--help does not document exit 4:\n%s", out)
	}
}

// A captured token has expired by the time support sees it: --at its
// capture time (or iat) judges it as the page sent it, and says so.
func TestVerifyAt(t *testing.T) {
	f := newFixture(t)
	captured := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	claims := map[string]any{"iss": "example-media", "sub": secretSub, "campaignId": "945644",
		"iat": captured.Unix(), "form": map[string]any{"email": secretEmail, "firstname": "Ada", "lastname": "Lovelace"}}
	b, _ := json.Marshal(claims)
	if err := os.WriteFile(f.claims, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tok := f.mint(t)
	pub := filepath.Join(f.sig, "public.pem")
	code, out, _ := run(t, tok, "verify", "--key", pub, "--iss", "example-media", "--campaign-id", "945644")
	if code != exitFailed || !strings.Contains(out, "token.expired") {
		t.Fatalf("now: exit %d\n%s", code, out)
	}
	for _, at := range []string{captured.Add(30 * time.Second).UTC().Format(time.RFC3339), strconv.FormatInt(captured.Unix()+30, 10), "iat"} {
		code, out, stderr := run(t, tok, "verify", "--key", pub, "--iss", "example-media", "--campaign-id", "945644", "--at", at)
		if code != exitOK || !strings.Contains(out, "judged as of") || strings.Contains(out, "token.expired") {
			t.Fatalf("--at %s: exit %d\n%s%s", at, code, out, stderr)
		}
	}
	code, out, _ = run(t, tok, "verify", "--key", pub, "--at", "iat", "--json")
	var doc map[string]any
	_ = json.Unmarshal([]byte(out), &doc)
	if code != exitOK || !strings.Contains(doc["times_as_of"].(string), "iat") {
		t.Fatalf("--at iat --json: exit %d %v", code, doc)
	}
	if code, _, stderr := run(t, tok, "verify", "--key", pub, "--at", "yesterday"); code != exitUsage || !strings.Contains(stderr, "RFC 3339") {
		t.Fatalf("--at yesterday: exit %d %s", code, stderr)
	}
}

// An argument naming a file is read from it (and the note says so).
func TestVerifyFileArgument(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	file := filepath.Join(f.dir, "token.txt")
	if err := os.WriteFile(file, []byte(tok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, "", "verify", "--key", filepath.Join(f.sig, "public.pem"), file)
	if code != exitOK || !strings.Contains(stderr, "reading the token from the file "+file) {
		t.Fatalf("file argument: exit %d\n%s%s", code, out, stderr)
	}
}

// A JWE without --decrypt-key is a usage error that names the flag, with or
// without other key sources.
func TestVerifyJWENeedsDecryptKey(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t, "--encrypt", "--encrypt-key", filepath.Join(f.enc, "public.pem"))
	for _, args := range [][]string{{"verify"}, {"verify", "--key", filepath.Join(f.sig, "public.pem")}} {
		code, out, stderr := run(t, tok, args...)
		if code != exitUsage || !strings.Contains(stderr, "--decrypt-key") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, stderr)
		}
	}
}

// Repeated member names are refused with their own code, with a key and
// without one.
func TestVerifyDuplicateMembers(t *testing.T) {
	f := newFixture(t)
	jwk, err := os.ReadFile(filepath.Join(f.sig, "private.jwk"))
	if err != nil {
		t.Fatal(err)
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(jwk); err != nil {
		t.Fatal(err)
	}
	priv := k.Key.(*ecdsa.PrivateKey)
	now := time.Now().Unix()
	body := `"sub":"` + secretSub + `","campaignId":"945644","iat":` + strconv.FormatInt(now, 10) + `,"exp":` + strconv.FormatInt(now+300, 10) + `,"form":{"email":"` + secretEmail + `","firstname":"Ada","lastname":"Lovelace"}`
	for name, parts := range map[string][2]string{
		"claims": {`{"alg":"ES256","kid":"sig1"}`, `{"iss":"attacker",` + body + `,"iss":"example-media"}`},
		"header": {`{"alg":"ES256","kid":"nope","kid":"sig1"}`, `{"iss":"example-media",` + body + `}`},
	} {
		input := base64.RawURLEncoding.EncodeToString([]byte(parts[0])) + "." + base64.RawURLEncoding.EncodeToString([]byte(parts[1]))
		digest := sha256.Sum256([]byte(input))
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig := make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
		tok := input + "." + base64.RawURLEncoding.EncodeToString(sig)
		for _, args := range [][]string{{"verify", "--key", filepath.Join(f.sig, "public.pem"), "--iss", "example-media"}, {"verify"}} {
			code, out, stderr := run(t, tok, args...)
			if code != exitFailed || !strings.Contains(out, "token.duplicate_member") {
				t.Fatalf("%s %v: exit %d\n%s%s", name, args, code, out, stderr)
			}
			assertNoSecrets(t, tok, out+stderr)
		}
	}
}
