package verify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/qualcert/qualcert/harness/token"
)

// Limits of the key sources.
const (
	// MaxJWKSSize caps a JWKS document (file or URL) at 1 MiB.
	MaxJWKSSize = 1 << 20
	// MinRSABits is the smallest RSA modulus accepted for signing or
	// encryption keys.
	MinRSABits = 2048
	// JWKSTimeout bounds one JWKS download.
	JWKSTimeout = 5 * time.Second
)

// key is one verification or decryption key with what its JWK says about it.
// A key from a PEM file or a raw secret has no kid, alg or use: it matches
// any kid, and its type alone decides the algorithms it may serve.
type key struct {
	kid    string
	alg    string   // JWK "alg", "" when unknown
	use    string   // JWK "use", "" when unknown
	keyOps []string // JWK "key_ops", nil when absent
	source string   // where it came from, for messages ("jwks_file", "public_key_file"…)
	value  any      // *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey, []byte, or private keys for decryption
}

// symmetric reports whether k is a shared secret.
func (k *key) symmetric() bool { _, ok := k.value.([]byte); return ok }

// describe names the key for a message: its kid, else its source.
func (k *key) describe() string {
	if k.kid != "" {
		return fmt.Sprintf("key %q (%s)", k.kid, k.source)
	}
	return "the key of " + k.source
}

// keySet is a list of keys from one source.
type keySet []*key

// byKID selects the keys a token may use: with a kid, the keys with that kid
// plus the kid-less keys of a single-key source; without a kid, every key.
func (s keySet) byKID(kid string, hasKID bool) keySet {
	if !hasKID {
		return s
	}
	var out keySet
	for _, k := range s {
		if k.kid == kid || (k.kid == "" && len(s) == 1) {
			out = append(out, k)
		}
	}
	return out
}

// readLimited reads a key file, refusing anything over MaxJWKSSize.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxJWKSSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxJWKSSize {
		return nil, fmt.Errorf("%s is over %d bytes", path, MaxJWKSSize)
	}
	return data, nil
}

// loadPublicKeyFile reads a PEM public key (SPKI, PKCS#1 or a certificate) or
// a public JWK/JWKS.
func loadPublicKeyFile(path string) (keySet, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	if looksJSON(data) {
		ks, err := parseJWKS(data, "public_key_file", false)
		if err != nil {
			return nil, fmt.Errorf("reading public key %s: %w", path, err)
		}
		return ks, nil
	}
	var ks keySet
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var pub any
		switch block.Type {
		case "PUBLIC KEY":
			pub, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case "CERTIFICATE":
			var cert *x509.Certificate
			cert, err = x509.ParseCertificate(block.Bytes)
			if err == nil {
				pub = cert.PublicKey
			}
		case "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY":
			return nil, fmt.Errorf("reading public key %s: it holds a private key; give the public part (qualcert keys generate writes both)", path)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading public key %s: %s block: %w", path, block.Type, err)
		}
		k := &key{source: "public_key_file", value: pub}
		if err := checkKeyStrength(k); err != nil {
			return nil, fmt.Errorf("reading public key %s: %w", path, err)
		}
		ks = append(ks, k)
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("reading public key %s: no PEM PUBLIC KEY or CERTIFICATE block", path)
	}
	if len(ks) > 1 {
		return nil, fmt.Errorf("reading public key %s: %d keys; give one key, or a JWKS with a kid per key", path, len(ks))
	}
	return ks, nil
}

// loadSecretFile reads a shared secret: oct keys as a JWK or JWKS, or else
// the raw bytes of the file, less one trailing newline (an editor's).
func loadSecretFile(path string) (keySet, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("reading shared secret: %w", err)
	}
	if looksJSON(data) {
		ks, err := parseJWKS(data, "secret_file", true)
		if err != nil {
			return nil, fmt.Errorf("reading shared secret %s: %w", path, err)
		}
		for _, k := range ks {
			if !k.symmetric() {
				return nil, fmt.Errorf("reading shared secret %s: %s is not a symmetric (oct) key", path, k.describe())
			}
		}
		return ks, nil
	}
	k := &key{source: "secret_file", value: token.RawSecret(data)}
	if err := checkKeyStrength(k); err != nil {
		return nil, fmt.Errorf("reading shared secret %s: %w", path, err)
	}
	return keySet{k}, nil
}

// loadDecryptionKeyFile reads a private key (PEM or JWK/JWKS) or a symmetric
// key (an oct JWK, or raw bytes of 16, 24, 32, 48 or 64 bytes less one
// trailing newline).
func loadDecryptionKeyFile(path string) (keySet, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, fmt.Errorf("reading decryption key: %w", err)
	}
	if looksJSON(data) {
		ks, err := parseJWKS(data, "decryption_key_file", true)
		if err != nil {
			return nil, fmt.Errorf("reading decryption key %s: %w", path, err)
		}
		for _, k := range ks {
			switch k.value.(type) {
			case *rsa.PrivateKey, *ecdsa.PrivateKey, []byte:
			default:
				return nil, fmt.Errorf("reading decryption key %s: %s is a public key; decryption needs the private key", path, k.describe())
			}
		}
		return ks, nil
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		priv, err := token.ParsePrivatePEM(data)
		if err != nil {
			return nil, fmt.Errorf("reading decryption key %s: %w", path, err)
		}
		switch priv.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey:
		default:
			return nil, fmt.Errorf("reading decryption key %s: %T keys cannot decrypt a JWE (use RSA or EC)", path, priv)
		}
		k := &key{source: "decryption_key_file", value: priv}
		if err := checkKeyStrength(k); err != nil {
			return nil, fmt.Errorf("reading decryption key %s: %w", path, err)
		}
		return keySet{k}, nil
	}
	secret := token.RawSecret(data)
	switch len(secret) {
	case 16, 24, 32, 48, 64:
	default:
		return nil, fmt.Errorf("reading decryption key %s: a symmetric key is 16, 24, 32, 48 or 64 raw bytes, not %d", path, len(secret))
	}
	return keySet{{source: "decryption_key_file", value: secret}}, nil
}

// looksJSON reports whether a key file is a JWK or JWKS rather than raw
// secret bytes (which may be anything, even start with '{').
func looksJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	return len(t) > 0 && t[0] == '{' && json.Valid(t)
}

// parseJWKS reads a JWKS ({"keys": […]}) or a single JWK. Private keys are
// accepted only when allowPrivate (secret and decryption files); a JWKS that
// mixes symmetric and asymmetric keys, repeats a kid, or holds a weak key is
// refused as a whole: such a set is ambiguous (Wycheproof MixedKeySet,
// DuplicateKid).
func parseJWKS(data []byte, source string, allowPrivate bool) (keySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not a JWK or JWKS: %w", err)
	}
	raws := doc.Keys
	if raws == nil {
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(data, &probe); err != nil {
			return nil, fmt.Errorf("not a JWK or JWKS: %w", err)
		}
		if _, ok := probe["kty"]; !ok {
			return nil, errors.New(`not a JWK or JWKS: no "keys" array and no "kty"`)
		}
		raws = []json.RawMessage{data}
	}
	if len(raws) == 0 {
		return nil, errors.New("the JWKS has no keys")
	}
	var ks keySet
	kids := map[string]bool{}
	var nSym, nAsym, nPriv, nPub int
	for i, raw := range raws {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		var extra struct {
			KeyOps []string `json:"key_ops"`
		}
		if err := json.Unmarshal(raw, &extra); err != nil {
			return nil, fmt.Errorf("key %d: key_ops: %w", i, err)
		}
		k := &key{kid: jwk.KeyID, alg: jwk.Algorithm, use: jwk.Use, keyOps: extra.KeyOps, source: source, value: jwk.Key}
		if k.kid != "" {
			if kids[k.kid] {
				return nil, fmt.Errorf("two keys share kid %q: a token could not say which one signed it", k.kid)
			}
			kids[k.kid] = true
		}
		switch jwk.Key.(type) {
		case []byte:
			nSym++
		case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
			nAsym++
			nPriv++
		default:
			nAsym++
			nPub++
		}
		if err := checkKeyStrength(k); err != nil {
			return nil, fmt.Errorf("%s: %w", k.describe(), err)
		}
		ks = append(ks, k)
	}
	if nSym > 0 && nAsym > 0 {
		return nil, errors.New("the key set mixes symmetric and asymmetric keys; give shared secrets in secret_file and public keys in a JWKS")
	}
	if !allowPrivate && nPriv > 0 {
		return nil, errors.New("the key set holds private keys; publish only the public part")
	}
	if !allowPrivate && nSym > 0 {
		return nil, errors.New("the key set holds a symmetric (oct) key; give shared secrets in secret_file, never in a published JWKS")
	}
	if nPriv > 0 && nPub > 0 {
		return nil, errors.New("the key set mixes public and private keys")
	}
	return ks, nil
}

// checkKeyStrength refuses keys no token should be accepted under: short RSA
// moduli, tiny or even exponents, ROCA-weak moduli, unusual curves, empty or
// short shared secrets.
func checkKeyStrength(k *key) error {
	var rsaPub *rsa.PublicKey
	switch v := k.value.(type) {
	case *rsa.PublicKey:
		rsaPub = v
	case *rsa.PrivateKey:
		rsaPub = &v.PublicKey
	case *ecdsa.PublicKey:
		return checkCurve(v.Curve)
	case *ecdsa.PrivateKey:
		return checkCurve(v.Curve)
	case ed25519.PublicKey, ed25519.PrivateKey:
		return nil
	case []byte:
		// A shared secret shorter than its HMAC's hash is weak, not
		// unusable: tokens signed with it are judged, with a should finding
		// (token.secret_short, see shortSecret), so that a publisher sees
		// every other defect of the token too.
		if len(v) == 0 {
			return errors.New("the key is empty")
		}
		return nil
	default:
		return fmt.Errorf("unsupported key type %T", k.value)
	}
	if rsaPub.N.BitLen() < MinRSABits {
		return fmt.Errorf("the RSA key is %d bits; at least %d are required", rsaPub.N.BitLen(), MinRSABits)
	}
	if rsaPub.E < 3 || rsaPub.E%2 == 0 {
		return fmt.Errorf("the RSA public exponent %d is not an odd number of at least 3", rsaPub.E)
	}
	if rocaVulnerable(rsaPub.N) {
		return errors.New("the RSA key was made by a library with the ROCA flaw (CVE-2017-15361); its private key can be recovered: generate a new key")
	}
	return nil
}

func checkCurve(c elliptic.Curve) error {
	switch c {
	case elliptic.P256(), elliptic.P384(), elliptic.P521():
		return nil
	}
	return fmt.Errorf("unsupported curve %s", c.Params().Name)
}

// rocaVulnerable reports whether n has the structure of the moduli made by
// Infineon's flawed prime generator (ROCA, CVE-2017-15361): such primes are
// k·M + (65537^a mod M), so for every small prime p dividing M, n mod p lies
// in the subgroup generated by 65537 mod p. Random moduli fail this test for
// at least one of the primes below with overwhelming probability.
func rocaVulnerable(n *big.Int) bool {
	rocaOnce.Do(initROCA)
	m := new(big.Int)
	for i, p := range rocaPrimes {
		r := int(m.Mod(n, big.NewInt(int64(p))).Int64())
		if !rocaSubgroups[i][r] {
			return false
		}
	}
	return true
}

var (
	rocaPrimes    = []int{3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167}
	rocaSubgroups [][]bool
	rocaOnce      sync.Once
)

func initROCA() {
	for _, p := range rocaPrimes {
		in := make([]bool, p)
		g := 65537 % p
		x := 1
		for {
			if in[x] {
				break
			}
			in[x] = true
			x = x * g % p
		}
		rocaSubgroups = append(rocaSubgroups, in)
	}
}

// remoteJWKS fetches a JWKS URL once and caches the keys for the verifier's
// lifetime. A failed fetch is not cached: the next token tries again.
type remoteJWKS struct {
	url    string
	client *http.Client
	mu     sync.Mutex
	keys   keySet
}

func (r *remoteJWKS) get(ctx context.Context) (keySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys != nil {
		return r.keys, nil
	}
	ks, err := fetchJWKS(ctx, r.client, r.url)
	if err != nil {
		return nil, err
	}
	r.keys = ks
	return ks, nil
}

// fetchJWKS downloads a JWKS with a timeout and a size cap, following
// redirects only on the same host.
func fetchJWKS(ctx context.Context, base *http.Client, rawURL string) (keySet, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	c := *base
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("too many redirects")
		}
		if req.URL.Host != u.Host {
			return fmt.Errorf("redirect to another host (%s) refused", req.URL.Host)
		}
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, JWKSTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, fmt.Errorf("fetching JWKS: %s answered %s", u.Host, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxJWKSSize+1))
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS: reading the body: %w", err)
	}
	if len(data) > MaxJWKSSize {
		return nil, fmt.Errorf("fetching JWKS: the document is over %d bytes", MaxJWKSSize)
	}
	ks, err := parseJWKS(data, "jwks_url", false)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS from %s: %w", u.Host, err)
	}
	return ks, nil
}

// hmacKeyLen is the minimum key length of an HS* algorithm (its hash size).
func hmacKeyLen(alg string) int {
	switch alg {
	case "HS256":
		return 32
	case "HS384":
		return 48
	case "HS512":
		return 64
	}
	return 0
}

// symmetricKeyLen is the key length a symmetric key-management algorithm needs.
func symmetricKeyLen(alg string) int {
	switch alg {
	case "A128KW", "A128GCMKW":
		return 16
	case "A192KW", "A192GCMKW":
		return 24
	case "A256KW", "A256GCMKW":
		return 32
	}
	return 0
}

// contentKeyLen is the key length of a content encryption (for dir).
func contentKeyLen(enc string) int {
	switch enc {
	case "A128GCM":
		return 16
	case "A192GCM":
		return 24
	case "A256GCM", "A128CBC-HS256":
		return 32
	case "A192CBC-HS384":
		return 48
	case "A256CBC-HS512":
		return 64
	}
	return 0
}

func isSymmetricKeyAlg(alg string) bool {
	return alg == "dir" || symmetricKeyLen(alg) > 0 || contentKeyLen(alg) > 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
