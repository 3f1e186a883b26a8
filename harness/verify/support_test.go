package verify

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/token"
)

// forgeRaw signs header.payload given as JSON text, so that a member name
// can be repeated (a map cannot hold two).
func forgeRaw(header, payload string, sign func([]byte) []byte) string {
	input := b64u([]byte(header)) + "." + b64u([]byte(payload))
	return input + "." + b64u(sign([]byte(input)))
}

// claimsJSON is goodClaims as JSON text with extra members spliced in first.
func claimsJSON(t testing.TB, extra string) string {
	t.Helper()
	b, err := json.Marshal(goodClaims())
	if err != nil {
		t.Fatal(err)
	}
	return "{" + extra + "," + string(b[1:])
}

// duplicateMemberAttacks repeat a name in the header or the claims of
// tokens that are otherwise correctly signed: receivers disagree on which
// member wins, so the reference verifier refuses them all.
func duplicateMemberAttacks(t testing.TB, a *attackSetup) []attack {
	t.Helper()
	es := es256(a.es.Private.(*ecdsa.PrivateKey))
	innerDup := forgeRaw(`{"alg":"ES256","kid":"es","kid":"rs"}`, claimsJSON(t, `"x":1`), es)
	nestedDup, err := token.Encrypt([]byte(innerDup), a.enc, jose.A256GCM, "JWT")
	if err != nil {
		t.Fatal(err)
	}
	nestedClaimsDup, err := token.Encrypt([]byte(forgeRaw(`{"alg":"ES256","kid":"es"}`, claimsJSON(t, `"sub":"admin"`), es)), a.enc, jose.A256GCM, "JWT")
	if err != nil {
		t.Fatal(err)
	}
	return []attack{
		{"duplicate iss in the claims", forgeRaw(`{"alg":"ES256","kid":"es","typ":"JWT"}`, claimsJSON(t, `"iss":"attacker"`), es), finding.TokenDuplicateMember},
		{"duplicate campaignId in the claims", forgeRaw(`{"alg":"ES256","kid":"es"}`, claimsJSON(t, `"campaignId":"1"`), es), finding.TokenDuplicateMember},
		{"duplicate field inside form", forgeRaw(`{"alg":"ES256","kid":"es"}`, `{"form":{"email":"a@example.com","email":"b@example.com"},`+claimsJSON(t, `"y":1`)[1:], es), finding.TokenDuplicateMember},
		{"duplicate alg in the header", forgeRaw(`{"alg":"none","alg":"ES256","kid":"es"}`, claimsJSON(t, `"x":1`), es), finding.TokenDuplicateMember},
		{"duplicate kid in the header", forgeRaw(`{"alg":"ES256","kid":"rs","kid":"es"}`, claimsJSON(t, `"x":1`), es), finding.TokenDuplicateMember},
		{"duplicate name by escape (\\u0069ss)", forgeRaw(`{"alg":"ES256","kid":"es"}`, claimsJSON(t, `"\u0069ss":"attacker"`), es), finding.TokenDuplicateMember},
		{"nested: duplicate kid in the inner header", nestedDup, finding.TokenDuplicateMember},
		{"nested: duplicate sub in the inner claims", nestedClaimsDup, finding.TokenDuplicateMember},
	}
}

// RFC 7515 §4.1.10: cty is compared case-insensitively, and
// "application/" may be left out; an asymmetric JWE with any spelling of
// JWT is a nested JWT and verifies.
func TestNestedCtySpellings(t *testing.T) {
	a := newAttackSetup(t)
	inner := sign(t, goodClaims(), a.es)
	for _, cty := range []string{"JWT", "jwt", "application/jwt", "Application/JWT", "APPLICATION/Jwt"} {
		tok, err := token.Encrypt([]byte(inner), a.enc, jose.A256GCM, cty)
		if err != nil {
			t.Fatal(err)
		}
		r := a.v.Verify(context.Background(), tok, Options{})
		if r.Format != "nested" {
			t.Errorf("cty %q: format %q, want nested", cty, r.Format)
		}
		expectOnly(t, r)
	}
	for _, cty := range []string{"text/jwt", "application/jwt+json", "jwt2"} {
		tok, err := token.Encrypt([]byte(inner), a.enc, jose.A256GCM, cty)
		if err != nil {
			t.Fatal(err)
		}
		expectOnly(t, a.v.Verify(context.Background(), tok, Options{}), finding.TokenJWEUnauthenticated)
	}
	for typ, ok := range map[string]bool{"JWT": true, "application/JWT": true, "jwt": true, "JOSE": false, "text/jwt": false} {
		if isMediaType(typ, "jwt") != ok {
			t.Errorf("isMediaType(%q, jwt) = %v", typ, !ok)
		}
	}
}

// A token captured days ago has expired by the time support looks at it: as
// of its capture (At) or of its own iat (AtIssued) it is valid, and the
// result says as of when it was judged.
func TestJudgedAsOf(t *testing.T) {
	k := genKey(t, "ES256", "k")
	cfg := baseConfig()
	cfg.PublicKeyFile = writePublicPEM(t, k)
	v := newVerifier(t, cfg)
	captured := testNow.Add(-72 * time.Hour)
	c := goodClaims()
	c["iat"], c["nbf"], c["exp"] = captured.Unix()-5, captured.Unix()-65, captured.Unix()+300
	tok := sign(t, c, k)
	ctx := context.Background()

	now := v.Verify(ctx, tok, Options{})
	expectOnly(t, now, finding.TokenExpired)
	if now.TimesAsOf != "" {
		t.Errorf("judged now, yet TimesAsOf = %q", now.TimesAsOf)
	}
	at := v.Verify(ctx, tok, Options{At: captured})
	expectOnly(t, at)
	if at.TimesAsOf != captured.UTC().Format(time.RFC3339) {
		t.Errorf("TimesAsOf = %q", at.TimesAsOf)
	}
	iat := v.Verify(ctx, tok, Options{AtIssued: true})
	expectOnly(t, iat)
	if !strings.Contains(iat.TimesAsOf, "iat") {
		t.Errorf("TimesAsOf = %q, want it to name iat", iat.TimesAsOf)
	}
	// the same as of the verifier's configuration (a run's --at)
	cfg.At = captured
	atCfg := newVerifier(t, cfg).Verify(ctx, tok, Options{})
	expectOnly(t, atCfg)
	if atCfg.TimesAsOf == "" {
		t.Error("Config.At: TimesAsOf not set")
	}
	// long after the capture, still expired
	expectOnly(t, v.Verify(ctx, tok, Options{At: captured.Add(time.Hour)}), finding.TokenExpired)
	// before nbf, not yet valid
	expectOnly(t, v.Verify(ctx, tok, Options{At: captured.Add(-time.Hour)}), finding.TokenNotYetValid, finding.TokenIATFuture)
}

// --kid picks one key of a multi-key JWKS for a token without kid.
func TestKeyIDSelectsKey(t *testing.T) {
	a, b := genKey(t, "ES256", "a"), genKey(t, "ES256", "b")
	cfg := baseConfig()
	cfg.JWKSFile = writeJWKS(t, a.PublicJWK(), b.PublicJWK())
	tok, err := token.Sign(goodClaims(), b, token.SignOptions{NoKID: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, tok, Options{}), finding.TokenKeyUnknown)
	cfg.KeyID = "b"
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, tok, Options{}))
	cfg.KeyID = "a"
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, tok, Options{}), finding.TokenSignatureInvalid)
	cfg.KeyID = "zz"
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, tok, Options{}), finding.TokenKeyUnknown)
}

// Inspect decodes without a key: the result is marked unverified, judges
// what needs no key, and redacts like Verify.
func TestInspect(t *testing.T) {
	k := genKey(t, "ES256", "k")
	v := newVerifier(t, baseConfig())
	ctx := context.Background()
	r := v.Inspect(ctx, sign(t, goodClaims(), k), Options{})
	if !r.Unverified || r.Format != "jws" || r.Header["kid"] != "k" || r.RedactedClaims["iss"] != testIssuer {
		t.Fatalf("inspect: %+v", r)
	}
	expectOnly(t, r)
	out, _ := json.Marshal(r)
	for _, secret := range []string{"ada@example.com", "Lovelace", "user-42"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the JSON form of an inspected token shows %q: %s", secret, out)
		}
	}
	// a forged signature is not noticed (nothing is verified) …
	expectOnly(t, v.Inspect(ctx, token.Tamper(sign(t, goodClaims(), k)), Options{}))
	// … but what is wrong whatever the key is
	expired := goodClaims()
	expired["exp"] = testNow.Unix() - 3600
	expectOnly(t, v.Inspect(ctx, sign(t, expired, k), Options{}), finding.TokenExpired, finding.TokenExpBeforeIAT)
	expectOnly(t, v.Inspect(ctx, sign(t, expired, k), Options{At: testNow.Add(-2 * time.Hour)}), finding.TokenExpBeforeIAT, finding.TokenIATFuture, finding.TokenNotYetValid)
	none, _ := token.Unsigned(goodClaims(), "none")
	expectOnly(t, v.Inspect(ctx, none, Options{}), finding.TokenAlgForbidden)
	es := es256(k.Private.(*ecdsa.PrivateKey))
	expectOnly(t, v.Inspect(ctx, forgeRaw(`{"alg":"ES256"}`, claimsJSON(t, `"iss":"x"`), es), Options{}), finding.TokenDuplicateMember)
	expectOnly(t, v.Inspect(ctx, "abc", Options{}), finding.TokenMalformed)
	// access tokens are not sent to the user-info webservice
	cfg := baseConfig()
	cfg.UserInfo.URL = "http://127.0.0.1:1/never"
	at := goodClaims()
	delete(at, "form")
	at["access_token"] = "opaque"
	r = newVerifier(t, cfg).Inspect(ctx, sign(t, at, k), Options{})
	expectOnly(t, r)
	if r.Mode != "access_token" || r.UserInfo != nil {
		t.Fatalf("inspect called user-info: %+v", r)
	}
	// a JWE: header only
	a := newAttackSetup(t)
	nested, err := token.Nested(goodClaims(), a.es, a.enc, jose.A256GCM)
	if err != nil {
		t.Fatal(err)
	}
	r = v.Inspect(ctx, nested, Options{})
	if !IsJWE(nested) || r.Format != "jwe" || r.Header["enc"] != "A256GCM" || r.Claims != nil {
		t.Fatalf("inspect of a JWE: %+v", r)
	}
}
