package main

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Times given are kept consistent (nbf ≤ iat < exp) around what the claims
// file says, --iss and --campaign-id set their claims, and contradictions
// are refused (--raw mints them on purpose).
func TestTokenMintTimesAndFlags(t *testing.T) {
	f := newFixture(t)
	claimsOf := func(tok string) map[string]any {
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		return c
	}
	write := func(extra string) {
		b := `{"sub":"s","form":{"email":"a@example.com"}` + extra + `}`
		if err := os.WriteFile(f.claims, []byte(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, extra := range []string{``, `,"exp":1700000000`, `,"iat":1700000000`, `,"nbf":4000000000`, `,"nbf":1700000000,"exp":1700000600`} {
		write(extra)
		c := claimsOf(f.mint(t, "--iss", "other-media", "--campaign-id", "42"))
		nbf, iat, exp := c["nbf"].(float64), c["iat"].(float64), c["exp"].(float64)
		if !(nbf <= iat && iat < exp) {
			t.Errorf("claims %s: nbf %v, iat %v, exp %v", extra, nbf, iat, exp)
		}
		if c["iss"] != "other-media" || c["campaignId"] != "42" {
			t.Errorf("claims %s: --iss/--campaign-id not applied: %v", extra, c)
		}
	}
	write(`,"iat":1700000000,"exp":1600000000`)
	code, _, stderr := run(t, "", "token", "mint", "--claims", f.claims, "--key", filepath.Join(f.sig, "private.jwk"))
	if code != exitUsage || !strings.Contains(stderr, "--raw") {
		t.Fatalf("contradicting times: exit %d %s", code, stderr)
	}
}
