// Package token mints tokens the way a publisher does: a signed JWT (JWS),
// optionally encrypted to Qualifio (a nested JWE, cty: JWT), or a direct JWE
// under a shared key. It also generates the key pairs to do it with.
//
// It is the publisher's side of the handshake, used by `qualcert token mint`,
// `qualcert keys generate`, the demo publisher and every test that needs a
// token. It deliberately can also mint what a careless publisher mints (no
// exp, a numeric campaignId, an unsigned JWE): the claims are whatever the
// caller gives. Only the forgeries that go-jose refuses to produce (alg none,
// broken signatures) are built by hand, in [Unsigned] and [Tamper].
package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a private key with the JOSE algorithm it is for and its key id.
type Key struct {
	Alg     string // RS256, ES256, EdDSA, HS256, RSA-OAEP-256, ECDH-ES+A256KW, dir, A256KW…
	KID     string
	Private any // *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey, or []byte for symmetric keys
}

// Public returns the public key (nil for symmetric keys).
func (k Key) Public() crypto.PublicKey {
	if s, ok := k.Private.(crypto.Signer); ok {
		return s.Public()
	}
	return nil
}

// PublicJWK returns the public JWK of k, with kid, alg and use set.
func (k Key) PublicJWK() jose.JSONWebKey {
	use := "sig"
	if IsEncryptionAlg(k.Alg) {
		use = "enc"
	}
	return jose.JSONWebKey{Key: k.Public(), KeyID: k.KID, Algorithm: k.Alg, Use: use}
}

// PrivateJWK returns the private JWK of k.
func (k Key) PrivateJWK() jose.JSONWebKey {
	j := k.PublicJWK()
	j.Key = k.Private
	return j
}

// IsEncryptionAlg reports whether alg is a JWE key-management algorithm.
func IsEncryptionAlg(alg string) bool {
	return strings.HasPrefix(alg, "RSA-OAEP") || strings.HasPrefix(alg, "ECDH-ES") || alg == "dir" ||
		strings.HasSuffix(alg, "KW") || strings.HasPrefix(alg, "A")
}

// GenerateAlgorithms are the algorithms Generate makes keys for.
var GenerateAlgorithms = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512",
	"RSA-OAEP", "RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW",
	"A128KW", "A192KW", "A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW", "dir",
}

// Generate makes a fresh key for alg (one of GenerateAlgorithms) with key
// id kid.
func Generate(alg, kid string) (Key, error) {
	k := Key{Alg: alg, KID: kid}
	var err error
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "RSA-OAEP", "RSA-OAEP-256":
		k.Private, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW":
		k.Private, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "ES384":
		k.Private, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "ES512":
		k.Private, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "EdDSA":
		_, k.Private, err = ed25519.GenerateKey(rand.Reader)
	case "HS256", "A128KW", "A128GCMKW":
		k.Private, err = randomBytes(32)
		if alg != "HS256" {
			k.Private, err = randomBytes(16)
		}
	case "HS384", "A192KW", "A192GCMKW":
		k.Private, err = randomBytes(48)
		if alg != "HS384" {
			k.Private, err = randomBytes(24)
		}
	case "HS512", "dir":
		k.Private, err = randomBytes(64) // dir: 64 bytes suit A256CBC-HS512; use DirKey for A256GCM
	case "A256KW", "A256GCMKW":
		k.Private, err = randomBytes(32)
	default:
		return Key{}, fmt.Errorf("generating a key: unsupported algorithm %q (supported: %s)", alg, strings.Join(GenerateAlgorithms, ", "))
	}
	if err != nil {
		return Key{}, fmt.Errorf("generating a %s key: %w", alg, err)
	}
	return k, nil
}

// DirKey makes a shared key for direct encryption with enc (A256GCM: 32 bytes).
func DirKey(enc jose.ContentEncryption, kid string) (Key, error) {
	n := map[jose.ContentEncryption]int{jose.A128GCM: 16, jose.A192GCM: 24, jose.A256GCM: 32, jose.A128CBC_HS256: 32, jose.A192CBC_HS384: 48, jose.A256CBC_HS512: 64}[enc]
	if n == 0 {
		return Key{}, fmt.Errorf("generating a dir key: unsupported enc %q", enc)
	}
	b, err := randomBytes(n)
	return Key{Alg: "dir", KID: kid, Private: b}, err
}

func randomBytes(n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := rand.Read(b)
	return b, err
}

// SignOptions tune the JWS header.
type SignOptions struct {
	Typ        string            // default "JWT"; "-" leaves typ out
	NoKID      bool              // leave kid out
	ExtraHeads map[string]string // other header parameters
}

// Sign returns a compact JWS over claims (marshalled as JSON) signed by k.
func Sign(claims any, k Key, opt SignOptions) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("minting a token: encoding claims: %w", err)
	}
	so := &jose.SignerOptions{}
	switch opt.Typ {
	case "":
		so.WithType("JWT")
	case "-":
	default:
		so.WithType(jose.ContentType(opt.Typ))
	}
	for h, v := range opt.ExtraHeads {
		so.WithHeader(jose.HeaderKey(h), v)
	}
	sk := jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Alg), Key: k.Private}
	if !opt.NoKID && k.KID != "" {
		if _, symmetric := k.Private.([]byte); symmetric {
			// go-jose writes no kid for a symmetric JWK signer: set it by hand
			so.WithHeader("kid", k.KID)
		} else {
			sk.Key = jose.JSONWebKey{Key: k.Private, KeyID: k.KID, Algorithm: k.Alg}
		}
	}
	signer, err := jose.NewSigner(sk, so)
	if err != nil {
		return "", fmt.Errorf("minting a token: %s signer: %w", k.Alg, err)
	}
	obj, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("minting a token: signing: %w", err)
	}
	return obj.CompactSerialize()
}

// Encrypt wraps plaintext (a compact JWS for a nested token, or raw claims
// JSON for a direct JWE) into a compact JWE for the recipient key k (its
// public part for RSA-OAEP and ECDH-ES, the shared key otherwise). cty is
// "JWT" for a nested token and "" otherwise.
func Encrypt(plaintext []byte, k Key, enc jose.ContentEncryption, cty string) (string, error) {
	var recipientKey any = k.Private
	if pub := k.Public(); pub != nil {
		recipientKey = pub
	}
	rcpt := jose.Recipient{Algorithm: jose.KeyAlgorithm(k.Alg), Key: recipientKey, KeyID: k.KID}
	eo := &jose.EncrypterOptions{}
	eo.WithType("JWT")
	if cty != "" {
		eo.WithContentType(jose.ContentType(cty))
	}
	e, err := jose.NewEncrypter(enc, rcpt, eo)
	if err != nil {
		return "", fmt.Errorf("minting a token: %s/%s encrypter: %w", k.Alg, enc, err)
	}
	obj, err := e.Encrypt(plaintext)
	if err != nil {
		return "", fmt.Errorf("minting a token: encrypting: %w", err)
	}
	return obj.CompactSerialize()
}

// Nested signs claims with sig, then encrypts the JWS to enc with cty: JWT.
func Nested(claims any, sig, encKey Key, enc jose.ContentEncryption) (string, error) {
	jws, err := Sign(claims, sig, SignOptions{})
	if err != nil {
		return "", err
	}
	return Encrypt([]byte(jws), encKey, enc, "JWT")
}

// Unsigned returns an "alg: none" token over claims, with the alg spelt as
// given (none, None, NONE…): what an attacker or a broken library sends.
func Unsigned(claims any, alg string) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("minting a token: encoding claims: %w", err)
	}
	head, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	return b64(head) + "." + b64(payload) + ".", nil
}

// Tamper flips one bit of the signature of a compact JWS, so the token
// parses but no longer verifies.
func Tamper(compact string) string {
	parts := strings.Split(compact, ".")
	if len(parts) != 3 || parts[2] == "" {
		return compact
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return compact
	}
	sig[len(sig)/2] ^= 0x01
	parts[2] = base64.RawURLEncoding.EncodeToString(sig)
	return strings.Join(parts, ".")
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
