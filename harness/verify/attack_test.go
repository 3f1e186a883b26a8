package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/jarcoal/httpmock"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/token"
)

// The attack table, in the spirit of jwt_tool and PortSwigger's JWT labs:
// each forgery is refused, with its own code.

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b64u(b)
}

// forge signs header.payload by hand with alg, so that the header can hold
// anything (jwk, jku, crit…). sign is nil for an empty signature.
func forge(t testing.TB, header map[string]any, claims any, sign func(input []byte) []byte) string {
	t.Helper()
	input := b64json(t, header) + "." + b64json(t, claims)
	var sig []byte
	if sign != nil {
		sig = sign([]byte(input))
	}
	return input + "." + b64u(sig)
}

func es256(priv *ecdsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		h := sha256.Sum256(in)
		r, s, err := ecdsa.Sign(rand.Reader, priv, h[:])
		if err != nil {
			panic(err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out
	}
}

func rs256(priv *rsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		h := sha256.Sum256(in)
		sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, h[:])
		if err != nil {
			panic(err)
		}
		return sig
	}
}

func hs256(key []byte) func([]byte) []byte {
	return func(in []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(in)
		return m.Sum(nil)
	}
}

// derECDSA encodes an ES256 signature as ASN.1 DER (what some libraries
// wrongly emit) instead of JOSE's fixed r||s.
func derECDSA(priv *ecdsa.PrivateKey) func([]byte) []byte {
	return func(in []byte) []byte {
		h := sha256.Sum256(in)
		der, err := ecdsa.SignASN1(rand.Reader, priv, h[:])
		if err != nil {
			panic(err)
		}
		return der
	}
}

// attackSetup is a verifier that trusts a JWKS with one ES256 and one RS256
// key, plus a decryption key, and whose HTTP client fails any request.
type attackSetup struct {
	v         *Verifier
	es, rs    token.Key
	enc       token.Key
	rsPubPEM  []byte
	transport *httpmock.MockTransport
}

func newAttackSetup(t testing.TB) *attackSetup {
	t.Helper()
	a := &attackSetup{es: genKey(t, "ES256", "es"), rs: genKey(t, "RS256", "rs"), enc: genKey(t, "RSA-OAEP-256", "enc")}
	a.transport = httpmock.NewMockTransport()
	cfg := baseConfig()
	cfg.JWKSFile = writeJWKS(t, a.es.PublicJWK(), a.rs.PublicJWK())
	cfg.DecryptionKeyFile = writePrivatePEM(t, a.enc)
	cfg.HTTPClient = &http.Client{Transport: a.transport}
	a.v = newVerifier(t, cfg)
	var err error
	a.rsPubPEM, err = os.ReadFile(writePublicPEM(t, a.rs))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type attack struct {
	name  string
	token string
	want  finding.Code
}

func attacks(t testing.TB, a *attackSetup) []attack {
	t.Helper()
	claims := goodClaims()
	attacker, _ := token.Generate("ES256", "es")
	attackerRSA := genKey(t, "RS256", "rs")
	legit := sign(t, claims, a.es)
	var out []attack

	for _, alg := range []string{"none", "None", "NONE", "nOnE"} {
		tok, err := token.Unsigned(claims, alg)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, attack{"alg " + alg, tok, finding.TokenAlgForbidden})
	}
	out = append(out,
		attack{"alg none with a signature", forge(t, map[string]any{"alg": "none", "kid": "es"}, claims, hs256([]byte("x"))), finding.TokenAlgForbidden},
		attack{"HS256 keyed with the RSA public key (PEM)", forge(t, map[string]any{"alg": "HS256", "kid": "rs", "typ": "JWT"}, claims, hs256(a.rsPubPEM)), finding.TokenAlgForbidden},
		attack{"psychic signature r=s=0", forge(t, map[string]any{"alg": "ES256", "kid": "es"}, claims, func([]byte) []byte { return make([]byte, 64) }), finding.TokenSignatureInvalid},
		attack{"psychic signature r=s=n", forge(t, map[string]any{"alg": "ES256", "kid": "es"}, claims, func([]byte) []byte {
			n := a.es.Private.(*ecdsa.PrivateKey).Curve.Params().N
			out := make([]byte, 64)
			n.FillBytes(out[:32])
			n.FillBytes(out[32:])
			return out
		}), finding.TokenSignatureInvalid},
	)
	// embedded jwk: the attacker's own key in the header, by go-jose and by hand
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: attacker.Private}, &jose.SignerOptions{EmbedJWK: true})
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK := attacker.PublicJWK()
	out = append(out,
		attack{"embedded jwk (go-jose EmbedJWK, no kid)", embedded, finding.TokenKeyUnknown},
		attack{"embedded jwk with the trusted kid", forge(t, map[string]any{"alg": "ES256", "kid": "es", "jwk": attackerJWK}, claims, es256(attacker.Private.(*ecdsa.PrivateKey))), finding.TokenSignatureInvalid},
		attack{"jku to the attacker's JWKS", forge(t, map[string]any{"alg": "ES256", "kid": "attacker", "jku": "https://attacker.example/jwks.json"}, claims, es256(attacker.Private.(*ecdsa.PrivateKey))), finding.TokenKeyUnknown},
		attack{"jku with the trusted kid", forge(t, map[string]any{"alg": "ES256", "kid": "es", "jku": "https://attacker.example/jwks.json"}, claims, es256(attacker.Private.(*ecdsa.PrivateKey))), finding.TokenSignatureInvalid},
		attack{"x5u with the trusted kid", forge(t, map[string]any{"alg": "RS256", "kid": "rs", "x5u": "https://attacker.example/cert.pem"}, claims, rs256(attackerRSA.Private.(*rsa.PrivateKey))), finding.TokenSignatureInvalid},
		attack{"kid path traversal", forge(t, map[string]any{"alg": "ES256", "kid": "../../../../../../dev/null"}, claims, es256(attacker.Private.(*ecdsa.PrivateKey))), finding.TokenKeyUnknown},
		attack{"kid path traversal with HS256 and an empty key", forge(t, map[string]any{"alg": "HS256", "kid": "../../../../../../dev/null"}, claims, hs256(nil)), finding.TokenAlgForbidden},
		attack{"kid SQL injection", forge(t, map[string]any{"alg": "ES256", "kid": "x' UNION SELECT 'key"}, claims, es256(attacker.Private.(*ecdsa.PrivateKey))), finding.TokenKeyUnknown},
		attack{"crit naming exp", forge(t, map[string]any{"alg": "ES256", "kid": "es", "crit": []string{"exp"}}, claims, es256(a.es.Private.(*ecdsa.PrivateKey))), finding.TokenMalformed},
		attack{"crit unknown extension", forge(t, map[string]any{"alg": "ES256", "kid": "es", "crit": []string{"x-evil"}, "x-evil": true}, claims, es256(a.es.Private.(*ecdsa.PrivateKey))), finding.TokenMalformed},
		attack{"b64 false", forge(t, map[string]any{"alg": "ES256", "kid": "es", "b64": false, "crit": []string{"b64"}}, claims, es256(a.es.Private.(*ecdsa.PrivateKey))), finding.TokenMalformed},
		attack{"b64 false without crit", forge(t, map[string]any{"alg": "ES256", "kid": "es", "b64": false}, claims, es256(a.es.Private.(*ecdsa.PrivateKey))), finding.TokenMalformed},
		attack{"signature truncated by 8 bytes", truncateSig(legit, 8), finding.TokenSignatureInvalid},
		attack{"signature truncated to an impossible base64 length", truncateChars(legit, 4*21+1), finding.TokenMalformed},
		attack{"signature removed", legit[:strings.LastIndexByte(legit, '.')+1], finding.TokenSignatureInvalid},
		attack{"signature altered", token.Tamper(legit), finding.TokenSignatureInvalid},
		attack{"payload altered", alterPayload(t, legit), finding.TokenSignatureInvalid},
		attack{"DER-encoded ECDSA signature", forge(t, map[string]any{"alg": "ES256", "kid": "es"}, claims, derECDSA(a.es.Private.(*ecdsa.PrivateKey))), finding.TokenSignatureInvalid},
		attack{"alg switched RS256 to PS256 (key pinned to RS256)", switchAlg(t, sign(t, claims, a.rs), "PS256"), finding.TokenAlgForbidden},
		attack{"ES256 token under an RSA kid", forge(t, map[string]any{"alg": "ES256", "kid": "rs"}, claims, es256(attacker.Private.(*ecdsa.PrivateKey))), finding.TokenAlgForbidden},
		attack{"JSON serialization", obj.FullSerialize(), finding.TokenMalformed},
	)
	enc := b64u(make([]byte, 16))
	out = append(out,
		attack{"PBES2 with p2c 2^31-1", b64json(t, map[string]any{"alg": "PBES2-HS512+A256KW", "enc": "A256GCM", "p2c": 2147483647, "p2s": b64u(make([]byte, 16))}) + "." + enc + "." + enc + "." + enc + "." + enc, finding.TokenAlgForbidden},
		attack{"RSA1_5 key transport", rsa15Token(t, a.enc, claims), finding.TokenAlgForbidden},
		attack{"DEFLATE bomb (8 MB of zeros)", deflateBomb(t), finding.TokenDecryptFailed},
		attack{"1 MB token", legit + strings.Repeat("A", 1<<20), finding.TokenTooLarge},
		attack{"100 000 dots", strings.Repeat(".", 100000), finding.TokenTooLarge},
		attack{"10 000 dots under the size cap", strings.Repeat(".", 10000), finding.TokenMalformed},
		attack{"empty encrypted_key", emptyEncryptedKey(t, a, claims), finding.TokenMalformed},
		attack{"nested JWE with a JWE inside", nestedJWEInJWE(t, a, claims), finding.TokenMalformed},
		attack{"newline inside the token", legit[:10] + "\n" + legit[10:], finding.TokenMalformed},
		attack{"empty token", "", finding.TokenMissing},
	)
	return append(out, duplicateMemberAttacks(t, a)...)
}

func alterPayload(t testing.TB, tok string) string {
	parts := strings.Split(tok, ".")
	c := goodClaims()
	c["sub"] = "admin"
	parts[1] = b64json(t, c)
	return strings.Join(parts, ".")
}

// truncateChars keeps the first n characters of the signature.
func truncateChars(tok string, n int) string {
	i := strings.LastIndexByte(tok, '.')
	return tok[:i+1+n]
}

func truncateSig(tok string, n int) string {
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	return tok[:i+1] + b64u(sig[:len(sig)-n])
}

func switchAlg(t testing.TB, tok, alg string) string {
	parts := strings.Split(tok, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var h map[string]any
	_ = json.Unmarshal(raw, &h)
	h["alg"] = alg
	parts[0] = b64json(t, h)
	return strings.Join(parts, ".")
}

// rsa15Token is a real RSA1_5 JWE when go-jose still makes one, else a
// header-only forgery: either way the alg alone must refuse it.
func rsa15Token(t testing.TB, enc token.Key, claims any) string {
	k := enc
	k.Alg = "RSA1_5"
	payload, _ := json.Marshal(claims)
	if tok, err := token.Encrypt(payload, k, jose.A128CBC_HS256, ""); err == nil {
		return tok
	}
	e := b64u(make([]byte, 16))
	return b64json(t, map[string]any{"alg": "RSA1_5", "enc": "A128CBC-HS256"}) + "." + b64u(make([]byte, 256)) + "." + e + "." + e + "." + e
}

// deflateBomb is a dir JWE whose DEFLATE-compressed plaintext inflates from
// about 8 KB to 8 MB, under the 16 KiB token cap.
func deflateBomb(t testing.TB) string {
	k, err := token.DirKey(jose.A128GCM, "")
	if err != nil {
		t.Fatal(err)
	}
	e, err := jose.NewEncrypter(jose.A128GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: k.Private}, &jose.EncrypterOptions{Compression: jose.DEFLATE})
	if err != nil {
		t.Fatal(err)
	}
	pt := append([]byte(`{"sub":"`), bytes.Repeat([]byte("0"), 8<<20)...)
	obj, err := e.Encrypt(append(pt, `"}`...))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) > MaxTokenSize {
		t.Fatalf("bomb is %d bytes, over the cap: the attack would not reach decompression", len(tok))
	}
	bombKey = k.Private.([]byte)
	return tok
}

// bombKey is the dir key of the last deflateBomb, for a verifier that can
// decrypt it.
var bombKey []byte

func emptyEncryptedKey(t testing.TB, a *attackSetup, claims any) string {
	tok, err := token.Nested(claims, a.es, a.enc, jose.A256GCM)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	parts[1] = ""
	return strings.Join(parts, ".")
}

func nestedJWEInJWE(t testing.TB, a *attackSetup, claims any) string {
	inner, err := token.Nested(claims, a.es, a.enc, jose.A256GCM)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := token.Encrypt([]byte(inner), a.enc, jose.A256GCM, "JWT")
	if err != nil {
		t.Fatal(err)
	}
	return outer
}

func TestAttacks(t *testing.T) {
	a := newAttackSetup(t)
	ctx := context.Background()
	list := attacks(t, a)
	// the bomb needs a verifier holding its dir key
	bombCfg := baseConfig()
	bombCfg.DecryptionKeyFile = writeSecret(t, bombKey)
	bombV := newVerifier(t, bombCfg)
	for _, at := range list {
		t.Run(at.name, func(t *testing.T) {
			v := a.v
			if strings.HasPrefix(at.name, "DEFLATE") {
				v = bombV
			}
			r := v.Verify(ctx, at.token, Options{})
			if r.Valid() || len(r.Findings) != 1 || r.Findings[0].Code != at.want {
				t.Fatalf("want exactly %s, got %v", at.want, r.Findings)
			}
			if r.Claims != nil {
				t.Fatal("claims of a refused token were exposed")
			}
		})
	}
	if n := a.transport.GetTotalCallCount(); n != 0 {
		t.Fatalf("the verifier made %d HTTP requests while judging forged tokens (jku/x5u must never be followed)", n)
	}
	// sanity: the same verifier accepts the legitimate tokens
	expectOnly(t, a.v.Verify(ctx, sign(t, goodClaims(), a.es), Options{}))
	expectOnly(t, a.v.Verify(ctx, sign(t, goodClaims(), a.rs), Options{}))
	nested, err := token.Nested(goodClaims(), a.rs, a.enc, jose.A256GCM)
	if err != nil {
		t.Fatal(err)
	}
	expectOnly(t, a.v.Verify(ctx, nested, Options{}))
}

// BenchmarkAttack measures the costly refusals (the issue asks for < 100 ms
// each; measured here rather than asserted, so tests never depend on the
// machine's speed).
func BenchmarkAttack(b *testing.B) {
	a := newAttackSetup(b)
	ctx := context.Background()
	list := attacks(b, a)
	bombCfg := baseConfig()
	bombCfg.DecryptionKeyFile = writeSecret(b, bombKey)
	bombV := newVerifier(b, bombCfg)
	for _, at := range list {
		switch {
		case strings.HasPrefix(at.name, "PBES2"), strings.HasPrefix(at.name, "RSA1_5"), strings.HasPrefix(at.name, "DEFLATE"),
			strings.HasPrefix(at.name, "1 MB"), strings.HasPrefix(at.name, "100 000"), strings.HasPrefix(at.name, "10 000"),
			strings.HasPrefix(at.name, "empty encrypted"), strings.HasPrefix(at.name, "JSON"):
		default:
			continue
		}
		v := a.v
		if strings.HasPrefix(at.name, "DEFLATE") {
			v = bombV
		}
		b.Run(strings.ReplaceAll(at.name, " ", "_"), func(b *testing.B) {
			for b.Loop() {
				_ = v.Verify(ctx, at.token, Options{})
			}
		})
	}
}

func TestDirectJWEPlaintextCap(t *testing.T) {
	k, _ := token.DirKey(jose.A256GCM, "")
	cfg := baseConfig()
	cfg.DecryptionKeyFile = writeSecret(t, k.Private.([]byte))
	v := newVerifier(t, cfg)
	e, err := jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.DIRECT, Key: k.Private}, &jose.EncrypterOptions{Compression: jose.DEFLATE})
	if err != nil {
		t.Fatal(err)
	}
	c := goodClaims()
	c["pad"] = strings.Repeat("a", 100_000) // compresses to almost nothing, inflates past the cap
	payload, _ := json.Marshal(c)
	obj, err := e.Encrypt(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := obj.CompactSerialize()
	expectOnly(t, v.Verify(context.Background(), tok, Options{}), finding.TokenTooLarge)
}
