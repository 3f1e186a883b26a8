package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/token"
)

func TestRawSecretFile(t *testing.T) {
	ctx := context.Background()
	text := "a-shared-secret-of-forty-two-characters!!"
	k := token.Key{Alg: "HS256", Private: []byte(text)}
	tok := sign(t, goodClaims(), k)
	for name, content := range map[string]string{"bare": text, "newline": text + "\n", "CRLF": text + "\r\n"} {
		cfg := baseConfig()
		cfg.SecretFile = writeFile(t, "secret", []byte(content))
		expectOnly(t, newVerifier(t, cfg).Verify(ctx, tok, Options{}))
		_ = name
	}
	// a binary secret that starts with '{' is still a raw secret
	bin := append([]byte("{"), make([]byte, 40)...)
	cfg := baseConfig()
	cfg.SecretFile = writeFile(t, "secret", bin)
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, sign(t, goodClaims(), token.Key{Alg: "HS256", Private: bin}), Options{}))
}

func selfSignedPEM(t *testing.T, priv *ecdsa.PrivateKey) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "publisher"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(4e9, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestKeySources(t *testing.T) {
	ctx := context.Background()
	es := genKey(t, "ES256", "es")
	cfg := baseConfig()
	cfg.PublicKeyFile = writeFile(t, "cert.pem", selfSignedPEM(t, es.Private.(*ecdsa.PrivateKey)))
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, sign(t, goodClaims(), es), Options{}))

	cfg = baseConfig()
	cfg.PublicKeyFile = writeJWKS(t, es.PublicJWK())
	expectOnly(t, newVerifier(t, cfg).Verify(ctx, sign(t, goodClaims(), es), Options{}))

	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakDER, _ := x509.MarshalPKIXPublicKey(&weak.PublicKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	hs := genKey(t, "HS256", "hs")
	rs := genKey(t, "RS256", "rs")
	dup := es.PublicJWK()
	dup.Key = genKey(t, "ES256", "").Public()
	for name, c := range map[string]Config{
		"1024-bit RSA":        {PublicKeyFile: writeFile(t, "w.pem", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: weakDER}))},
		"duplicate kid":       {JWKSFile: writeJWKS(t, es.PublicJWK(), dup)},
		"private key in JWKS": {JWKSFile: writeJWKS(t, es.PrivateJWK())},
		"oct key in JWKS":     {JWKSFile: writeJWKS(t, jose.JSONWebKey{Key: hs.Private, KeyID: "hs", Algorithm: "HS256"})},
		"mixed secret file":   {SecretFile: writeJWKS(t, jose.JSONWebKey{Key: hs.Private, KeyID: "hs"}, rs.PublicJWK())},
		"empty JWKS":          {JWKSFile: writeFile(t, "e.json", []byte(`{"keys":[]}`))},
		"garbage PEM":         {PublicKeyFile: writeFile(t, "g.pem", []byte("hello"))},
		"two PEM keys":        {PublicKeyFile: writeFile(t, "2.pem", append(selfSignedPEM(t, es.Private.(*ecdsa.PrivateKey)), selfSignedPEM(t, p384)...))},
		"short raw dec key":   {DecryptionKeyFile: writeFile(t, "d", []byte("0123456789"))},
		"public as dec key":   {DecryptionKeyFile: writeJWKS(t, rs.PublicJWK())},
	} {
		if _, err := New(ctx, c); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), "BEGIN") {
			t.Errorf("%s: error quotes key material: %v", name, err)
		}
	}
}

func TestROCAFingerprint(t *testing.T) {
	// a fresh Go key is not ROCA-shaped; the Wycheproof ROCA key is refused
	// in TestWycheproof (json_web_key_test.json #7).
	k := genKey(t, "RS256", "")
	if rocaVulnerable(k.Private.(*rsa.PrivateKey).N) {
		t.Fatal("a random modulus flagged as ROCA")
	}
}

func TestFingerprintMatchesFinding(t *testing.T) {
	for _, s := range []string{"", "a", "ada@example.com", strings.Repeat("x", 5000)} {
		if fingerprint(s) != finding.Fingerprint(s) {
			t.Fatalf("fingerprint(%q) = %s, finding.Fingerprint = %s", s, fingerprint(s), finding.Fingerprint(s))
		}
	}
}

// TestConcurrentVerify shares one verifier (and its JWKS cache) between
// goroutines; run with -race.
func TestConcurrentVerify(t *testing.T) {
	k := genKey(t, "ES256", "k")
	jwks, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.PublicJWK()}})
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1); _, _ = w.Write(jwks) }))
	defer srv.Close()
	cfg := baseConfig()
	cfg.JWKSURL = srv.URL
	v := newVerifier(t, cfg)
	tok := sign(t, goodClaims(), k)
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := v.Verify(context.Background(), tok, Options{}); !r.Valid() {
				errs <- fmt.Sprint(r.Findings)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if hits.Load() != 1 {
		t.Fatalf("JWKS fetched %d times", hits.Load())
	}
}
