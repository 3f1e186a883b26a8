package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/token"
)

func TestValidTokensEveryAlgorithm(t *testing.T) {
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			k := genKey(t, alg, "k1")
			cfg := baseConfig()
			cfg.PublicKeyFile = writePublicPEM(t, k)
			v := newVerifier(t, cfg)
			r := v.Verify(context.Background(), sign(t, goodClaims(), k), Options{Campaign: "div1"})
			expectOnly(t, r)
			if r.Format != "jws" || r.Mode != "inline" || len(r.FieldNames) != 4 || r.Fields["email"] != "ada@example.com" {
				t.Fatalf("result %+v", r)
			}
		})
	}
	for _, alg := range []string{"HS256", "HS384", "HS512"} {
		t.Run(alg, func(t *testing.T) {
			k := genKey(t, alg, "s1")
			cfg := baseConfig()
			cfg.SecretFile = writeSecret(t, k.Private.([]byte))
			r := newVerifier(t, cfg).Verify(context.Background(), sign(t, goodClaims(), k), Options{})
			expectOnly(t, r)
		})
	}
}

func TestJWKSAndKid(t *testing.T) {
	a, b := genKey(t, "ES256", "a"), genKey(t, "RS256", "b")
	cfg := baseConfig()
	cfg.JWKSFile = writeJWKS(t, a.PublicJWK(), b.PublicJWK())
	v := newVerifier(t, cfg)
	ctx := context.Background()
	expectOnly(t, v.Verify(ctx, sign(t, goodClaims(), a), Options{}))
	expectOnly(t, v.Verify(ctx, sign(t, goodClaims(), b), Options{}))

	stranger := genKey(t, "ES256", "c")
	expectOnly(t, v.Verify(ctx, sign(t, goodClaims(), stranger), Options{}), finding.TokenKeyUnknown)

	noKid, err := token.Sign(goodClaims(), a, token.SignOptions{NoKID: true})
	if err != nil {
		t.Fatal(err)
	}
	expectOnly(t, v.Verify(ctx, noKid, Options{}), finding.TokenKeyUnknown)

	// a kid naming key a on a token signed by b's type: alg/type disagreement.
	impostor := genKey(t, "RS256", "a")
	expectOnly(t, v.Verify(ctx, sign(t, goodClaims(), impostor), Options{}), finding.TokenAlgForbidden)
}

func TestFindingsCarryCampaignAndRedaction(t *testing.T) {
	k := genKey(t, "ES256", "k")
	cfg := baseConfig()
	cfg.PublicKeyFile = writePublicPEM(t, k)
	v := newVerifier(t, cfg)
	c := goodClaims()
	c["campaignId"] = "1"
	tok := sign(t, c, k)
	r := v.Verify(context.Background(), tok, Options{Campaign: "qualifio_insert_place_1"})
	expectOnly(t, r, finding.TokenCampaignMismatch)
	if r.Findings[0].Campaign != "qualifio_insert_place_1" {
		t.Fatalf("campaign %q", r.Findings[0].Campaign)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{tok, "ada@example.com", "Lovelace", "user-42", "1815-12-10"} {
		if strings.Contains(string(out), secret) {
			t.Fatalf("JSON result leaks %q: %s", secret, out)
		}
	}
	if r.RedactedClaims["exp"] != float64(testNow.Unix()+300) {
		t.Fatalf("exp not kept: %v", r.RedactedClaims["exp"])
	}
	form := r.RedactedClaims["form"].(map[string]any)
	if form["email"] != finding.Fingerprint("ada@example.com") {
		t.Fatalf("email not fingerprinted: %v", form["email"])
	}
	if r.Fingerprint != finding.Fingerprint(tok) {
		t.Fatal("token fingerprint")
	}
	// iss and campaignId name the publisher and the campaign, not the
	// participant: shown in clear so a mismatch can be read
	if r.RedactedClaims["campaignId"] != "1" || r.RedactedClaims["iss"] != c["iss"] {
		t.Fatalf("iss/campaignId not in clear: %v %v", r.RedactedClaims["iss"], r.RedactedClaims["campaignId"])
	}
	if r.RedactedClaims["sub"] != finding.Fingerprint("user-42") {
		t.Fatalf("sub not fingerprinted: %v", r.RedactedClaims["sub"])
	}
	// something long stuffed into iss is not a name: fingerprinted
	c["iss"] = strings.Repeat("ada@example.com ", 10)
	r = v.Verify(context.Background(), sign(t, c, k), Options{})
	if r.RedactedClaims["iss"] != finding.Fingerprint(c["iss"].(string)) {
		t.Fatalf("a 160-byte iss is shown in clear: %v", r.RedactedClaims["iss"])
	}
}

func TestNestedAndDirectJWE(t *testing.T) {
	sig := genKey(t, "ES256", "sig")
	ctx := context.Background()
	for _, encAlg := range []string{"RSA-OAEP-256", "RSA-OAEP", "ECDH-ES+A256KW", "ECDH-ES"} {
		t.Run(encAlg, func(t *testing.T) {
			enc := genKey(t, encAlg, "enc")
			cfg := baseConfig()
			cfg.PublicKeyFile = writePublicPEM(t, sig)
			cfg.DecryptionKeyFile = writePrivatePEM(t, enc)
			v := newVerifier(t, cfg)
			nested, err := token.Nested(goodClaims(), sig, enc, jose.A256GCM)
			if err != nil {
				t.Fatal(err)
			}
			r := v.Verify(ctx, nested, Options{})
			expectOnly(t, r)
			if r.Format != "nested" || r.InnerHeader["alg"] != "ES256" {
				t.Fatalf("format %q inner %v", r.Format, r.InnerHeader)
			}
			payload, _ := json.Marshal(goodClaims())
			bare, err := token.Encrypt(payload, enc, jose.A256GCM, "")
			if err != nil {
				t.Fatal(err)
			}
			expectOnly(t, v.Verify(ctx, bare, Options{}), finding.TokenJWEUnauthenticated)
			// a nested token whose inner signature is broken
			inner := token.Tamper(sign(t, goodClaims(), sig))
			broken, err := token.Encrypt([]byte(inner), enc, jose.A256GCM, "JWT")
			if err != nil {
				t.Fatal(err)
			}
			expectOnly(t, v.Verify(ctx, broken, Options{}), finding.TokenSignatureInvalid)
		})
	}
	for _, alg := range []string{"dir", "A128KW", "A256KW", "A256GCMKW"} {
		t.Run(alg, func(t *testing.T) {
			var k token.Key
			var err error
			if alg == "dir" {
				k, err = token.DirKey(jose.A256GCM, "d")
			} else {
				k, err = token.Generate(alg, "d")
			}
			if err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig()
			cfg.DecryptionKeyFile = writeSecret(t, k.Private.([]byte))
			v := newVerifier(t, cfg)
			payload, _ := json.Marshal(goodClaims())
			direct, err := token.Encrypt(payload, k, jose.A256GCM, "")
			if err != nil {
				t.Fatal(err)
			}
			r := v.Verify(ctx, direct, Options{})
			expectOnly(t, r)
			if r.Format != "jwe" {
				t.Fatalf("format %q", r.Format)
			}
			other, _ := token.DirKey(jose.A256GCM, "d")
			if alg != "dir" {
				other, _ = token.Generate(alg, "d")
			}
			wrong, _ := token.Encrypt(payload, other, jose.A256GCM, "")
			expectOnly(t, v.Verify(ctx, wrong, Options{}), finding.TokenDecryptFailed)
		})
	}
}

func TestClaimsPolicy(t *testing.T) {
	k := genKey(t, "ES256", "k")
	cfg := baseConfig()
	cfg.PublicKeyFile = writePublicPEM(t, k)
	cfg.Audience = "qualifio"
	v := newVerifier(t, cfg)
	now := testNow.Unix()
	cases := []struct {
		name   string
		change func(c map[string]any)
		want   []finding.Code
	}{
		{"good", func(c map[string]any) { c["aud"] = []any{"x", "qualifio"} }, nil},
		{"no sub", func(c map[string]any) { c["aud"] = "qualifio"; delete(c, "sub") }, []finding.Code{finding.TokenSubMissing}},
		{"empty sub", func(c map[string]any) { c["aud"] = "qualifio"; c["sub"] = " " }, []finding.Code{finding.TokenSubMissing}},
		{"no campaignId", func(c map[string]any) { c["aud"] = "qualifio"; delete(c, "campaignId") }, []finding.Code{finding.TokenCampaignIDMissing}},
		{"numeric campaignId", func(c map[string]any) { c["aud"] = "qualifio"; c["campaignId"] = 945644 }, []finding.Code{finding.TokenCampaignIDNotString}},
		{"wrong iss", func(c map[string]any) { c["aud"] = "qualifio"; c["iss"] = "other" }, []finding.Code{finding.TokenIssMismatch}},
		{"no iss", func(c map[string]any) { c["aud"] = "qualifio"; delete(c, "iss") }, []finding.Code{finding.TokenIssMismatch}},
		{"no aud", func(c map[string]any) {}, []finding.Code{finding.TokenAudMismatch}},
		{"wrong aud", func(c map[string]any) { c["aud"] = "someone" }, []finding.Code{finding.TokenAudMismatch}},
		{"no exp", func(c map[string]any) { c["aud"] = "qualifio"; delete(c, "exp") }, []finding.Code{finding.TokenExpMissing}},
		{"exp before iat", func(c map[string]any) { c["aud"] = "qualifio"; c["exp"] = now - 5; c["iat"] = now }, []finding.Code{finding.TokenExpBeforeIAT}},
		{"long lifetime", func(c map[string]any) { c["aud"] = "qualifio"; c["exp"] = now + 7200 }, []finding.Code{finding.TokenLifetimeTooLong}},
		{"iat in ms", func(c map[string]any) { c["aud"] = "qualifio"; c["iat"] = now * 1000 }, []finding.Code{finding.TokenIATFuture}},
		{"string exp", func(c map[string]any) { c["aud"] = "qualifio"; c["exp"] = "tomorrow" }, []finding.Code{finding.TokenMalformed}},
		{"missing field", func(c map[string]any) {
			c["aud"] = "qualifio"
			delete(c["form"].(map[string]any), "lastname")
		}, []finding.Code{finding.PIIFieldMissing}},
		{"bad email, bad date, empty name, unknown field", func(c map[string]any) {
			c["aud"] = "qualifio"
			f := c["form"].(map[string]any)
			f["email"], f["birthday"], f["firstname"], f["shoe_size"] = "ada@", "31/02/1815", "", "42"
		}, []finding.Code{finding.PIIFieldInvalid, finding.PIIFieldInvalid, finding.PIIFieldInvalid, finding.PIIUnknownField}},
		{"DD/MM/YYYY date", func(c map[string]any) {
			c["aud"] = "qualifio"
			c["form"].(map[string]any)["birthday"] = "10/12/1815"
		}, nil},
		{"neither fields nor access token", func(c map[string]any) { c["aud"] = "qualifio"; delete(c, "form") }, []finding.Code{finding.TokenModeAmbiguous}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := goodClaims()
			tc.change(c)
			expectOnly(t, v.Verify(context.Background(), sign(t, c, k), Options{}), tc.want...)
		})
	}
}

func TestTypHeader(t *testing.T) {
	k := genKey(t, "ES256", "k")
	cfg := baseConfig()
	cfg.PublicKeyFile = writePublicPEM(t, k)
	v := newVerifier(t, cfg)
	for typ, want := range map[string][]finding.Code{"-": nil, "JWT": nil, "jwt": nil, "at+jwt": {finding.TokenTypInvalid}} {
		tok, err := token.Sign(goodClaims(), k, token.SignOptions{Typ: typ})
		if err != nil {
			t.Fatal(err)
		}
		expectOnly(t, v.Verify(context.Background(), tok, Options{}), want...)
	}
}

func TestModes(t *testing.T) {
	k := genKey(t, "ES256", "k")
	ctx := context.Background()
	withAccess := goodClaims()
	delete(withAccess, "form")
	withAccess["access_token"] = "opaque-123"

	cfg := baseConfig()
	cfg.PublicKeyFile = writePublicPEM(t, k)
	cfg.Mode = "inline"
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, sign(t, withAccess, k), Options{}), finding.TokenModeAmbiguous)

	cfg.Mode = "access_token"
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, sign(t, goodClaims(), k), Options{}), finding.TokenModeAmbiguous)

	// fields at the top level
	cfg.Mode, cfg.FieldsClaim = "any", ""
	top := goodClaims()
	for n, val := range top["form"].(map[string]any) {
		top[n] = val
	}
	delete(top, "form")
	r := newVerifier(t, cfg).Verify(ctx, sign(t, top, k), Options{})
	expectOnly(t, r)
	if r.Mode != "inline" || len(r.Fields) != 4 {
		t.Fatalf("top-level fields: %+v", r)
	}
}

func TestOptionsCampaignOverrides(t *testing.T) {
	k := genKey(t, "ES256", "k")
	cfg := baseConfig()
	cfg.PublicKeyFile = writePublicPEM(t, k)
	v := newVerifier(t, cfg)
	tok := sign(t, goodClaims(), k)
	expectOnly(t, v.Verify(context.Background(), tok, Options{CampaignID: "other"}), finding.TokenCampaignMismatch)
	expectOnly(t, v.Verify(context.Background(), tok, Options{CampaignID: testCampaign}))
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"none allowed":      {Algorithms: []string{"none"}},
		"unknown alg":       {Algorithms: []string{"XS256"}},
		"PBES2 enc":         {KeyAlgorithms: []string{"PBES2-HS256+A128KW"}},
		"empty secret":      {SecretFile: writeSecret(t, []byte{})},
		"missing file":      {PublicKeyFile: "/nonexistent/key.pem"},
		"private as public": {PublicKeyFile: writePrivatePEM(t, genKey(t, "ES256", ""))},
	} {
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

// A shared secret shorter than its HMAC's hash is a weakness to report, not a
// reason to refuse the configuration: the token is judged, with
// token.secret_short (should) beside whatever else it gets wrong.
func TestShortSecretIsJudged(t *testing.T) {
	ctx := context.Background()
	secret := []byte("twenty-byte-secret!!")
	cfg := baseConfig()
	cfg.SecretFile = writeSecret(t, secret)
	v := newVerifier(t, cfg)
	r := v.Verify(ctx, signHS256(t, goodClaims(), secret), Options{})
	expectOnly(t, r, finding.TokenSecretShort)
	if !r.Valid() {
		t.Fatalf("a should finding made the token invalid: %v", r.Findings)
	}
	expired := goodClaims()
	expired["exp"] = float64(testNow.Add(-time.Hour).Unix())
	expired["iat"] = float64(testNow.Add(-2 * time.Hour).Unix())
	expectOnly(t, v.Verify(ctx, signHS256(t, expired, secret), Options{}), finding.TokenExpired, finding.TokenSecretShort)
	// a forged signature is still refused, and the weakness is not reported
	expectOnly(t, v.Verify(ctx, token.Tamper(signHS256(t, goodClaims(), secret)), Options{}), finding.TokenSignatureInvalid)
	// a secret of the full length gets no finding
	full := genKey(t, "HS256", "")
	cfg.SecretFile = writeSecret(t, full.Private.([]byte))
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, sign(t, goodClaims(), full), Options{}))
}

// signHS256 signs by hand: go-jose refuses to sign with a short secret,
// which publishers' libraries do not all do.
func signHS256(t testing.TB, claims any, secret []byte) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
