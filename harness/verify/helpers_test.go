package verify

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/token"
)

// testNow is the clock of every test: tokens are minted around it.
var testNow = time.Unix(1_800_000_000, 0)

const (
	testIssuer   = "example-media"
	testCampaign = "945644"
)

// goodClaims are the claims of a token that passes every rule.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "user-42", "campaignId": testCampaign,
		"iat": testNow.Unix() - 10, "nbf": testNow.Unix() - 70, "exp": testNow.Unix() + 300,
		"form": map[string]any{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace", "birthday": "1815-12-10"},
	}
}

// baseConfig is a profile-like configuration without key sources.
func baseConfig() Config {
	return Config{
		Issuer: testIssuer, CampaignID: testCampaign, Mode: profile.ModeAny,
		FieldsClaim: "form", AccessTokenClaim: "access_token",
		Required: []string{"email", "firstname", "lastname"}, Optional: []string{"birthday", "zip_code", "phone"},
		MaxLifetime: time.Hour, Leeway: 60 * time.Second,
		Now: func() time.Time { return testNow },
	}
}

func genKey(t testing.TB, alg, kid string) token.Key {
	t.Helper()
	k, err := token.Generate(alg, kid)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writePublicPEM(t testing.TB, k token.Key) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "pub.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func writePrivatePEM(t testing.TB, k token.Key) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "priv.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func writeJWKS(t testing.TB, keys ...jose.JSONWebKey) string {
	t.Helper()
	b, err := json.Marshal(jose.JSONWebKeySet{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "jwks.json", b)
}

func newVerifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func sign(t testing.TB, claims any, k token.Key) string {
	t.Helper()
	s, err := token.Sign(claims, k, token.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func codes(r *Result) []finding.Code {
	var out []finding.Code
	for _, f := range r.Findings {
		out = append(out, f.Code)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// expectOnly fails unless the findings are exactly want (any order).
func expectOnly(t testing.TB, r *Result, want ...finding.Code) {
	t.Helper()
	got := codes(r)
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	if len(got) != len(want) {
		t.Fatalf("findings %v, want %v\n%v", got, want, r.Findings)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("findings %v, want %v\n%v", got, want, r.Findings)
		}
	}
}

// writeSecret writes a shared key as an oct JWK: raw random bytes in a file
// are ambiguous (a trailing 0x0a would read as an editor's newline).
func writeSecret(t testing.TB, secret []byte) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(secret)})
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "secret.jwk", b)
}
