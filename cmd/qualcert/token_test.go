package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTokenMint(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d parts", len(parts))
	}
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var h, c map[string]any
	_ = json.Unmarshal(head, &h)
	_ = json.Unmarshal(payload, &c)
	if h["alg"] != "ES256" || h["kid"] != "sig1" || h["typ"] != "JWT" {
		t.Fatalf("header %v", h)
	}
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if exp-iat != 300 || c["nbf"] == nil {
		t.Fatalf("times not filled: %v", c)
	}
	// --raw keeps the claims as given
	raw := f.mint(t, "--raw")
	payload, _ = base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
	c = nil
	_ = json.Unmarshal(payload, &c)
	if _, has := c["exp"]; has {
		t.Fatalf("--raw added exp: %v", c)
	}
	// nested JWE, verified by the CLI itself
	nested := f.mint(t, "--encrypt", "--encrypt-key", filepath.Join(f.enc, "jwks.json"))
	if strings.Count(nested, ".") != 4 {
		t.Fatal("--encrypt did not make a JWE")
	}
	code, out, _ := run(t, nested, "verify", "--key", filepath.Join(f.sig, "public.pem"), "--decrypt-key", filepath.Join(f.enc, "private.jwk"))
	if code != exitOK || !strings.Contains(out, "(nested)") {
		t.Fatalf("nested: exit %d\n%s", code, out)
	}
	// HS256 with a shared secret file
	sec := filepath.Join(t.TempDir(), "hs")
	run(t, "", "keys", "generate", "--alg", "HS256", "--out", sec)
	code, out, stderr := run(t, "", "token", "mint", "--claims", f.claims, "--key", filepath.Join(sec, "secret"))
	if code != exitOK {
		t.Fatalf("HS256 mint: %d %s", code, stderr)
	}
	if code, vout, _ := run(t, out, "verify", "--secret-file", filepath.Join(sec, "secret")); code != exitOK {
		t.Fatalf("HS256 verify: %d\n%s", code, vout)
	}
}

func TestTokenMintUsage(t *testing.T) {
	f := newFixture(t)
	bad := filepath.Join(f.dir, "bad.json")
	_ = os.WriteFile(bad, []byte("[1,2]"), 0o600)
	for name, args := range map[string][]string{
		"no claims":           {"token", "mint", "--key", filepath.Join(f.sig, "private.pem")},
		"no key":              {"token", "mint", "--claims", f.claims},
		"claims not object":   {"token", "mint", "--claims", bad, "--key", filepath.Join(f.sig, "private.pem")},
		"public key to sign":  {"token", "mint", "--claims", f.claims, "--key", filepath.Join(f.sig, "jwks.json")},
		"encrypt without key": {"token", "mint", "--claims", f.claims, "--key", filepath.Join(f.sig, "private.pem"), "--encrypt"},
		"unknown sub":         {"token", "forge"},
	} {
		if code, out, _ := run(t, "", args...); code != exitUsage || out != "" && name != "unknown sub" {
			t.Errorf("%s: exit %d, want 2 (stdout %q)", name, code, out)
		}
	}
	if code, out, _ := run(t, "", "token", "mint", "--help"); code != exitOK || !strings.Contains(out, "--encrypt-key") {
		t.Errorf("--help: %d", code)
	}
}

// A bad --alg or --enc lists what is supported.
func TestMintBadValuesListTheSupportedOnes(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := run(t, "", "keys", "generate", "--alg", "ES256", "--out", dir); code != exitOK {
		t.Fatal(stderr)
	}
	claims := filepath.Join(dir, "claims.json")
	if err := os.WriteFile(claims, []byte(`{"sub":"1","campaignId":"1"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "private.jwk")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--alg", "ES257"}, `--alg "ES257" is not a signing algorithm (did you mean ES256`},
		{[]string{"--encrypt", "--encrypt-key", filepath.Join(dir, "public.pem"), "--enc", "A256GCX"}, `--enc "A256GCX" is not a content encryption (did you mean A256GCM?)`},
	} {
		args := append([]string{"token", "mint", "--claims", claims, "--key", key}, tc.args...)
		code, _, stderr := run(t, "", args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "supported: ") {
			t.Errorf("%v: exit %d, %q", tc.args, code, stderr)
		}
	}
}
