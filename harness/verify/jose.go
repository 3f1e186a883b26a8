package verify

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/finding"
)

// The JOSE layer: from a compact string to an authenticated payload. Every
// decision about algorithms and keys is taken here, on a header decoded by
// qualcert itself, before go-jose is asked to parse, verify or decrypt with
// exactly one algorithm and one key. A refusal here ends the verification:
// the claims of an unauthenticated token are not worth judging.

// Default JWE algorithms: every key-management and content-encryption
// algorithm of RFC 7518 except RSA1_5 and PBES2*, which are never accepted.
var (
	DefaultKeyAlgorithms = []string{"RSA-OAEP", "RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A128KW", "ECDH-ES+A192KW", "ECDH-ES+A256KW",
		"A128KW", "A192KW", "A256KW", "A128GCMKW", "A192GCMKW", "A256GCMKW", "dir"}
	DefaultContentEncryptions = []string{"A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"}
)

// MaxPlaintextSize caps what a JWE may decrypt (or inflate, with zip: DEF)
// to; go-jose stops inflating at 250 kB, this is qualcert's own, tighter cap.
const MaxPlaintextSize = 4 * MaxTokenSize

// jwsAlgs are the JWS algorithms the verifier can check at all.
var jwsAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"}

// opened is what the JOSE layer learnt from a token.
type opened struct {
	format      string
	header      map[string]any
	innerHeader map[string]any
	payload     []byte
	weak        []finding.Finding // should findings of the JOSE layer (a short shared secret)
}

// refusal is a JOSE-layer failure: a finding to report.
func refusal(code finding.Code, format string, args ...any) *finding.Finding {
	f := finding.New(code, format, args...)
	return &f
}

// scanCompact checks that s is made of base64url segments separated by dots
// and returns the number of dots. It also refuses non-canonical base64url
// (a segment of 4k+1 characters, or unused bits set in the last character),
// which a lax decoder would accept while the signature covers the text.
func scanCompact(s string) (dots int, bad *finding.Finding) {
	segStart := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if f := checkSegmentEnd(s[segStart:i], dots); f != nil {
				return 0, f
			}
			if i < len(s) {
				dots++
			}
			segStart = i + 1
			continue
		}
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			what := fmt.Sprintf("byte 0x%02x", c)
			if c > ' ' && c < 0x7f {
				what = fmt.Sprintf("%q", c)
			}
			return 0, refusal(finding.TokenMalformed, "the token holds %s at position %d: a compact JWT is only base64url characters (A-Z a-z 0-9 - _) and dots", what, i)
		}
	}
	return dots, nil
}

func checkSegmentEnd(seg string, index int) *finding.Finding {
	if len(seg) == 0 {
		return nil
	}
	last := base64Value(seg[len(seg)-1])
	switch len(seg) % 4 {
	case 1:
		return refusal(finding.TokenMalformed, "part %d is not valid base64url (its length %d is impossible)", index+1, len(seg))
	case 2:
		if last&0x0f != 0 {
			return refusal(finding.TokenMalformed, "part %d is not canonical base64url (unused bits are set)", index+1)
		}
	case 3:
		if last&0x03 != 0 {
			return refusal(finding.TokenMalformed, "part %d is not canonical base64url (unused bits are set)", index+1)
		}
	}
	return nil
}

func base64Value(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return c - 'a' + 26
	case '0' <= c && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	}
	return 63
}

// decodeHeader decodes a protected header into a map, refusing a member
// name given twice (token.duplicate_member).
func decodeHeader(seg string) (map[string]any, *finding.Finding) {
	if seg == "" {
		return nil, refusal(finding.TokenMalformed, "the token has no header")
	}
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, refusal(finding.TokenMalformed, "the header is not base64url: %v", err)
	}
	h, err := decodeObject(raw)
	if ptr, dup := isDuplicateName(err); dup {
		return nil, refusal(finding.TokenDuplicateMember, "the JOSE header gives %s more than once: verifiers disagree on which one counts, so the token must be refused (RFC 7515 §4)", ptr)
	}
	if err != nil || h == nil {
		return nil, refusal(finding.TokenMalformed, "the header is not a JSON object")
	}
	return h, nil
}

// checkCommonHeader refuses what no qualcert token may carry: unknown
// critical parameters and unencoded payloads.
func checkCommonHeader(h map[string]any) *finding.Finding {
	if crit, ok := h["crit"]; ok {
		return refusal(finding.TokenMalformed, "the header marks %v as critical; qualcert (like Qualifio) understands no critical extension, so the token must be refused (RFC 7515 §4.1.11)", crit)
	}
	if b64, ok := h["b64"]; ok && b64 != true {
		return refusal(finding.TokenMalformed, "the header sets b64: %v (RFC 7797 unencoded payload); a JWT payload is always base64url-encoded", b64)
	}
	return nil
}

// forbiddenAlg says why alg is never accepted, or "".
func forbiddenAlg(alg string) string {
	switch {
	case strings.EqualFold(alg, "none"):
		return fmt.Sprintf("alg %q means an unsigned token, which anyone can forge", alg)
	case strings.EqualFold(alg, "RSA1_5"):
		return "RSA1_5 (RSA PKCS#1 v1.5 encryption) is open to padding-oracle attacks (Bleichenbacher); use RSA-OAEP-256"
	case hasPrefixFold(alg, "PBES2"):
		return fmt.Sprintf("%s derives keys from a password; it is slow by design and an attacker controls the iteration count (p2c)", alg)
	}
	return ""
}

// headerAlg decodes a protected header and reads its alg, which every token
// must carry as a string; the header is returned even when alg is missing,
// for the report.
func headerAlg(head string) (map[string]any, string, *finding.Finding) {
	h, bad := decodeHeader(head)
	if bad != nil {
		return nil, "", bad
	}
	alg, ok := h["alg"].(string)
	if !ok {
		return h, "", refusal(finding.TokenMalformed, "the header has no alg string")
	}
	return h, alg, nil
}

// openJWS verifies a compact JWS and returns its header and payload; a
// weakness that does not stop the verification (a short shared secret) is
// added to op.weak.
func (v *Verifier) openJWS(ctx context.Context, token string, op *opened) (map[string]any, []byte, *finding.Finding) {
	head, rest, _ := strings.Cut(token, ".")
	_, sigSeg, _ := strings.Cut(rest, ".")
	h, alg, bad := headerAlg(head)
	if bad != nil {
		return h, nil, bad
	}
	if why := forbiddenAlg(alg); why != "" {
		return h, nil, refusal(finding.TokenAlgForbidden, "%s", why)
	}
	if _, isJWE := h["enc"]; isJWE {
		return h, nil, refusal(finding.TokenMalformed, "the header has enc (a JWE parameter) but the token has three parts")
	}
	if !slices.Contains(v.algs, alg) {
		if strings.HasPrefix(alg, "HS") && slices.Contains(jwsAlgs, alg) && len(v.secrets) == 0 {
			return h, nil, refusal(finding.TokenAlgForbidden, "alg %s is an HMAC: it needs a secret shared with Qualifio, and none is configured (an HS token checked with a public key is the classic key-confusion forgery)", alg)
		}
		return h, nil, refusal(finding.TokenAlgForbidden, "alg %q is not in the agreed list (%s)", alg, strings.Join(v.algs, ", "))
	}
	if bad := checkCommonHeader(h); bad != nil {
		return h, nil, bad
	}
	if sigSeg == "" {
		return h, nil, refusal(finding.TokenSignatureInvalid, "the token has no signature")
	}
	k, bad := v.pickKey(ctx, h, alg, true)
	if bad != nil {
		return h, nil, bad
	}
	if strings.HasPrefix(alg, "HS") {
		if weak := shortSecret(k, alg); weak != nil {
			// go-jose refuses to use a short HMAC key at all; the verdict
			// on such a token is the signature's plus the weakness.
			payload, ok := verifyShortHMAC(token, alg, k.value.([]byte))
			if !ok {
				return h, nil, refusal(finding.TokenSignatureInvalid, "the %s signature does not verify with %s", alg, k.describe())
			}
			op.weak = append(op.weak, *weak)
			return h, payload, nil
		}
	}
	obj, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		return h, nil, refusal(finding.TokenMalformed, "the token is not a compact JWS: %v", trimJoseErr(err))
	}
	payload, err := obj.Verify(k.value)
	if err != nil {
		return h, nil, refusal(finding.TokenSignatureInvalid, "the %s signature does not verify with %s", alg, k.describe())
	}
	if strings.HasPrefix(alg, "PS") && !strictPSS(token, alg, k.value.(*rsa.PublicKey)) {
		return h, nil, refusal(finding.TokenSignatureInvalid, "the %s signature uses a salt length other than the hash size (RFC 7518 §3.5)", alg)
	}
	return h, payload, nil
}

// shortSecret returns a should finding when the shared secret k is shorter
// than the hash of the HMAC alg (RFC 7518 §3.2), else nil.
func shortSecret(k *key, alg string) *finding.Finding {
	b, ok := k.value.([]byte)
	if !ok || len(b) >= hmacKeyLen(alg) {
		return nil
	}
	f := finding.New(finding.TokenSecretShort, "the shared secret (%s) is %d bytes; %s needs at least %d (RFC 7518 §3.2): a short secret can be guessed offline from one token", k.describe(), len(b), alg, hmacKeyLen(alg))
	return &f
}

// verifyShortHMAC checks the HMAC of a compact JWS (already scanned as
// canonical base64url) under a secret go-jose will not use, and returns the
// payload when it verifies.
func verifyShortHMAC(token, alg string, secret []byte) ([]byte, bool) {
	newHash := map[string]func() hash.Hash{"HS256": sha256.New, "HS384": sha512.New384, "HS512": sha512.New}[alg]
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if newHash == nil || err != nil {
		return nil, false
	}
	mac := hmac.New(newHash, secret)
	mac.Write([]byte(token[:i]))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, false
	}
	_, seg, _ := strings.Cut(token[:i], ".")
	payload, err := base64.RawURLEncoding.DecodeString(seg)
	return payload, err == nil
}

// strictPSS re-checks an RSASSA-PSS signature with the salt length RFC 7518
// §3.5 fixes (the hash size): go-jose accepts any salt length.
func strictPSS(token, alg string, pub *rsa.PublicKey) bool {
	hash := map[string]crypto.Hash{"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512}[alg]
	i := strings.LastIndexByte(token, '.')
	sig, err := base64.RawURLEncoding.DecodeString(token[i+1:])
	if err != nil {
		return false
	}
	h := hash.New()
	h.Write([]byte(token[:i]))
	return rsa.VerifyPSS(pub, hash, h.Sum(nil), sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
}

// pickKey chooses the one key a token may be checked with: by kid (never by
// any other header: jwk, jku, x5u and x5c are ignored), then checks that the
// key's type, alg, use and key_ops agree with the header's alg.
func (v *Verifier) pickKey(ctx context.Context, h map[string]any, alg string, signing bool) (*key, *finding.Finding) {
	var ks keySet
	if signing {
		var err error
		ks, err = v.signingKeys(ctx, alg)
		if err != nil {
			return nil, refusal(finding.TokenKeyUnknown, "%v", err)
		}
	} else {
		ks = v.decKeys
		if len(ks) == 0 {
			return nil, refusal(finding.TokenKeyUnknown, "the token is encrypted (alg %s) and no decryption key is configured", alg)
		}
	}
	kidVal, hasKID := h["kid"]
	kid, isString := kidVal.(string)
	if hasKID && !isString {
		return nil, refusal(finding.TokenMalformed, "the header's kid is not a string")
	}
	if signing && v.cfg.KeyID != "" {
		var only keySet
		for _, k := range ks {
			if k.kid == v.cfg.KeyID {
				only = append(only, k)
			}
		}
		if len(only) == 0 {
			return nil, refusal(finding.TokenKeyUnknown, "no key has the kid %q that was asked for (known: %s)", v.cfg.KeyID, kidList(ks))
		}
		ks = only
	}
	cands := ks.byKID(kid, hasKID)
	switch {
	case len(cands) == 0:
		return nil, refusal(finding.TokenKeyUnknown, "no key has kid %q (known: %s)", kid, kidList(ks))
	case len(cands) > 1:
		return nil, refusal(finding.TokenKeyUnknown, "the token has no kid and %d keys could apply (%s); set kid to name one", len(cands), kidList(cands))
	}
	k := cands[0]
	if reason := keyMismatch(k, h, alg, signing); reason != "" {
		return nil, refusal(finding.TokenAlgForbidden, "%s", reason)
	}
	return k, nil
}

func kidList(ks keySet) string {
	var kids []string
	for _, k := range ks {
		if k.kid == "" {
			kids = append(kids, "a key without kid")
		} else {
			kids = append(kids, fmt.Sprintf("%q", k.kid))
		}
	}
	if len(kids) == 0 {
		return "none"
	}
	return strings.Join(kids, ", ")
}

// keyMismatch says why key k may not serve alg, or "".
func keyMismatch(k *key, h map[string]any, alg string, signing bool) string {
	if k.alg != "" && k.alg != alg {
		return fmt.Sprintf("%s is for alg %s, but the token says %s", k.describe(), k.alg, alg)
	}
	wantUse, wantOp := "sig", "verify"
	if !signing {
		wantUse, wantOp = "enc", ""
	}
	if k.use != "" && k.use != wantUse {
		return fmt.Sprintf("%s has use %q; a %s token needs use %q", k.describe(), k.use, alg, wantUse)
	}
	if k.keyOps != nil && signing && !slices.Contains(k.keyOps, wantOp) {
		return fmt.Sprintf("%s has key_ops %v without %q", k.describe(), k.keyOps, wantOp)
	}
	if k.keyOps != nil && !signing && !slices.Contains(k.keyOps, "decrypt") && !slices.Contains(k.keyOps, "unwrapKey") {
		return fmt.Sprintf("%s has key_ops %v without decrypt or unwrapKey", k.describe(), k.keyOps)
	}
	typ := keyType(k.value)
	switch {
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		if typ != "RSA" {
			return fmt.Sprintf("%s is an %s key; %s needs an RSA key", k.describe(), typ, alg)
		}
	case strings.HasPrefix(alg, "ES"):
		want := map[string]string{"ES256": "EC P-256", "ES384": "EC P-384", "ES512": "EC P-521"}[alg]
		if typ != want {
			return fmt.Sprintf("%s is an %s key; %s needs an %s key", k.describe(), typ, alg, want)
		}
	case alg == "EdDSA":
		if typ != "Ed25519" {
			return fmt.Sprintf("%s is an %s key; EdDSA needs an Ed25519 key", k.describe(), typ)
		}
	case strings.HasPrefix(alg, "HS"):
		if _, ok := k.value.([]byte); !ok {
			return fmt.Sprintf("%s is an %s key; %s needs a shared secret", k.describe(), typ, alg)
		}
		// a short secret is judged: see shortSecret
	case strings.HasPrefix(alg, "RSA-OAEP"):
		if _, ok := k.value.(*rsa.PrivateKey); !ok {
			return fmt.Sprintf("%s is not an RSA private key; %s needs one", k.describe(), alg)
		}
	case strings.HasPrefix(alg, "ECDH-ES"):
		if _, ok := k.value.(*ecdsa.PrivateKey); !ok {
			return fmt.Sprintf("%s is not an EC private key; %s needs one", k.describe(), alg)
		}
	case alg == "dir":
		b, ok := k.value.([]byte)
		enc, _ := h["enc"].(string)
		if !ok || len(b) != contentKeyLen(enc) {
			return fmt.Sprintf("%s does not fit dir with enc %s (it needs a %d-byte shared key)", k.describe(), enc, contentKeyLen(enc))
		}
	default: // A*KW, A*GCMKW
		b, ok := k.value.([]byte)
		if !ok || len(b) != symmetricKeyLen(alg) {
			return fmt.Sprintf("%s does not fit %s (it needs a %d-byte shared key)", k.describe(), alg, symmetricKeyLen(alg))
		}
	}
	return ""
}

func keyType(v any) string {
	switch k := v.(type) {
	case *rsa.PublicKey, *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PublicKey:
		return "EC " + curveName(k.Curve)
	case *ecdsa.PrivateKey:
		return "EC " + curveName(k.Curve)
	case ed25519.PublicKey, ed25519.PrivateKey:
		return "Ed25519"
	case []byte:
		return "symmetric"
	}
	return fmt.Sprintf("%T", v)
}

func curveName(c elliptic.Curve) string { return c.Params().Name }

// openJWE decrypts a compact JWE and returns its header and plaintext,
// without judging what the plaintext is (see openToken for the nesting rule).
func (v *Verifier) openJWE(token string) (map[string]any, []byte, *finding.Finding) {
	head, rest, _ := strings.Cut(token, ".")
	encKeySeg, _, _ := strings.Cut(rest, ".")
	h, alg, bad := headerAlg(head)
	if bad != nil {
		return h, nil, bad
	}
	enc, ok := h["enc"].(string)
	if !ok {
		return h, nil, refusal(finding.TokenMalformed, "the token has five parts (a JWE) but its header has no enc string")
	}
	if why := forbiddenAlg(alg); why != "" {
		return h, nil, refusal(finding.TokenAlgForbidden, "%s", why)
	}
	if !slices.Contains(v.keyAlgs, alg) {
		return h, nil, refusal(finding.TokenAlgForbidden, "JWE alg %q is not accepted (%s)", alg, strings.Join(v.keyAlgs, ", "))
	}
	if !slices.Contains(v.contentEncs, enc) {
		return h, nil, refusal(finding.TokenAlgForbidden, "JWE enc %q is not accepted (%s)", enc, strings.Join(v.contentEncs, ", "))
	}
	if bad := checkCommonHeader(h); bad != nil {
		return h, nil, bad
	}
	if zip, ok := h["zip"]; ok && zip != "DEF" {
		return h, nil, refusal(finding.TokenMalformed, "zip %v is not a known compression (only DEF)", zip)
	}
	directAgreement := alg == "dir" || alg == "ECDH-ES"
	if directAgreement && encKeySeg != "" {
		return h, nil, refusal(finding.TokenMalformed, "alg %s carries no encrypted key, but the token's second part is not empty", alg)
	}
	if !directAgreement && encKeySeg == "" {
		return h, nil, refusal(finding.TokenMalformed, "the encrypted key (second part) is empty; alg %s needs one", alg)
	}
	k, bad := v.pickKey(context.Background(), h, alg, false)
	if bad != nil {
		return h, nil, bad
	}
	obj, err := jose.ParseEncryptedCompact(token, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, []jose.ContentEncryption{jose.ContentEncryption(enc)})
	if err != nil {
		return h, nil, refusal(finding.TokenMalformed, "the token is not a compact JWE: %v", trimJoseErr(err))
	}
	pt, err := obj.Decrypt(k.value)
	if err != nil {
		return h, nil, refusal(finding.TokenDecryptFailed, "decrypting with %s (alg %s, enc %s) failed: %v", k.describe(), alg, enc, trimJoseErr(err))
	}
	return h, pt, nil
}

// isAsymmetricKeyAlg reports whether anyone holding a public key can make a
// JWE under alg (RSA-OAEP*, ECDH-ES*): such a JWE authenticates nobody.
func isAsymmetricKeyAlg(alg string) bool {
	return strings.HasPrefix(alg, "RSA") || strings.HasPrefix(alg, "ECDH-ES")
}

// openToken runs the JOSE layer on a size-checked token.
func (v *Verifier) openToken(ctx context.Context, token string) (*opened, *finding.Finding) {
	if token[0] == '{' {
		return nil, refusal(finding.TokenMalformed, "the token is in JSON serialization; only the compact form (dot-separated base64url) is accepted: its unprotected headers can be changed by anyone")
	}
	dots, bad := scanCompact(token)
	if bad != nil {
		return nil, bad
	}
	switch dots {
	case 2:
		op := &opened{format: "jws"}
		op.header, op.payload, bad = v.openJWS(ctx, token, op)
		return op, bad
	case 4:
		h, pt, bad := v.openJWE(token)
		op := &opened{format: "jwe", header: h}
		if bad != nil {
			return op, bad
		}
		if len(pt) > MaxPlaintextSize {
			return op, refusal(finding.TokenTooLarge, "the decrypted content is %d bytes, over the %d-byte cap", len(pt), MaxPlaintextSize)
		}
		alg, _ := h["alg"].(string)
		cty, _ := h["cty"].(string)
		if !isMediaType(cty, "jwt") {
			if isAsymmetricKeyAlg(alg) {
				return op, refusal(finding.TokenJWEUnauthenticated, "the JWE (alg %s) holds bare claims, not a signed JWT (cty: JWT): anyone with the public key could have made it", alg)
			}
			op.payload = pt
			return op, nil
		}
		op.format = "nested"
		inner := string(pt)
		if len(inner) > MaxTokenSize {
			return op, refusal(finding.TokenTooLarge, "the nested JWT is %d bytes, over the %d-byte cap", len(inner), MaxTokenSize)
		}
		if inner == "" || inner[0] == '{' {
			return op, refusal(finding.TokenMalformed, "cty is JWT but the decrypted content is not a compact JWS")
		}
		innerDots, bad := scanCompact(inner)
		if bad != nil {
			bad.Message = "the nested JWT: " + bad.Message
			return op, bad
		}
		if innerDots != 2 {
			return op, refusal(finding.TokenMalformed, "cty is JWT but the decrypted content has %d parts, not the 3 of a signed JWT", innerDots+1)
		}
		ih, payload, bad := v.openJWS(ctx, inner, op)
		op.innerHeader = ih
		if bad != nil {
			bad.Message = "the nested JWT: " + bad.Message
			return op, bad
		}
		op.payload = payload
		return op, nil
	}
	return nil, refusal(finding.TokenMalformed, "the token has %d parts; a compact JWS has 3 and a JWE 5", dots+1)
}

// isMediaType reports whether a typ or cty header value names the media
// type application/<sub> as RFC 7515 §4.1.9-10 says to compare it: case
// insensitively, with the "application/" prefix optional (and then no other
// slash).
func isMediaType(v, sub string) bool {
	if len(v) > len("application/") && strings.EqualFold(v[:len("application/")], "application/") {
		v = v[len("application/"):]
	} else if strings.Contains(v, "/") {
		return false
	}
	return strings.EqualFold(v, sub)
}

// trimJoseErr drops go-jose's package prefix from an error message.
func trimJoseErr(err error) string {
	return strings.TrimPrefix(err.Error(), "go-jose/go-jose: ")
}
