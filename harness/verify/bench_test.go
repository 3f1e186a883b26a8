package verify

import (
	"context"
	"encoding/json"
	"sort"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/qualcert/qualcert/harness/token"
)

// Verify against bare go-jose on the same token and key: the cost of
// qualcert's policy over the library's parse, verify and ValidateWithLeeway.
// Run both side by side:
//
//	go test -run '^$' -bench . -benchtime 1s -count 3 ./harness/verify/

type benchCase struct {
	name     string
	token    string
	v        *Verifier
	baseline func() error
}

func benchCases(b *testing.B) []benchCase {
	b.Helper()
	expected := jwt.Expected{Issuer: testIssuer, Time: testNow}
	leeway := baseConfig().Leeway
	var out []benchCase
	for _, alg := range []string{"ES256", "RS256", "EdDSA", "HS256"} {
		k := genKey(b, alg, "k")
		cfg := baseConfig()
		var verifyKey any = k.Public()
		if alg == "HS256" {
			cfg.SecretFile = writeSecret(b, k.Private.([]byte))
			verifyKey = k.Private
		} else {
			cfg.PublicKeyFile = writePublicPEM(b, k)
		}
		tok := sign(b, goodClaims(), k)
		sigAlg := jose.SignatureAlgorithm(alg)
		out = append(out, benchCase{alg, tok, newVerifier(b, cfg), func() error {
			parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{sigAlg})
			if err != nil {
				return err
			}
			var c jwt.Claims
			if err := parsed.Claims(verifyKey, &c); err != nil {
				return err
			}
			return c.ValidateWithLeeway(expected, leeway)
		}})
	}

	sig, enc := genKey(b, "ES256", "sig"), genKey(b, "RSA-OAEP-256", "enc")
	cfg := baseConfig()
	cfg.PublicKeyFile = writePublicPEM(b, sig)
	cfg.DecryptionKeyFile = writePrivatePEM(b, enc)
	nested, err := token.Nested(goodClaims(), sig, enc, jose.A256GCM)
	if err != nil {
		b.Fatal(err)
	}
	out = append(out, benchCase{"nested_RSA-OAEP-256_ES256", nested, newVerifier(b, cfg), func() error {
		obj, err := jose.ParseEncryptedCompact(nested, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			return err
		}
		inner, err := obj.Decrypt(enc.Private)
		if err != nil {
			return err
		}
		parsed, err := jwt.ParseSigned(string(inner), []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			return err
		}
		var c jwt.Claims
		if err := parsed.Claims(sig.Public(), &c); err != nil {
			return err
		}
		return c.ValidateWithLeeway(expected, leeway)
	}})

	dir, err := token.DirKey(jose.A256GCM, "d")
	if err != nil {
		b.Fatal(err)
	}
	cfg = baseConfig()
	cfg.DecryptionKeyFile = writeSecret(b, dir.Private.([]byte))
	payload, _ := json.Marshal(goodClaims())
	direct, err := token.Encrypt(payload, dir, jose.A256GCM, "")
	if err != nil {
		b.Fatal(err)
	}
	out = append(out, benchCase{"JWE_dir_A256GCM", direct, newVerifier(b, cfg), func() error {
		parsed, err := jwt.ParseEncrypted(direct, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			return err
		}
		var c jwt.Claims
		if err := parsed.Claims(dir.Private, &c); err != nil {
			return err
		}
		return c.ValidateWithLeeway(expected, leeway)
	}})
	return out
}

func BenchmarkVerify(b *testing.B) {
	ctx := context.Background()
	for _, bc := range benchCases(b) {
		if r := bc.v.Verify(ctx, bc.token, Options{}); !r.Valid() || len(r.Findings) != 0 {
			b.Fatalf("%s: not valid: %v", bc.name, r.Findings)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.v.Verify(ctx, bc.token, Options{})
			}
		})
	}
}

func BenchmarkBaseline(b *testing.B) {
	for _, bc := range benchCases(b) {
		if err := bc.baseline(); err != nil {
			b.Fatalf("%s: baseline refuses: %v", bc.name, err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = bc.baseline()
			}
		})
	}
}

// BenchmarkRatio interleaves Verify and the baseline call by call and
// reports the median time of each and their ratio: on a shared, busy
// machine both suffer the same contention, and medians ignore the calls
// that were preempted, so the ratio stays meaningful when the absolute
// figures of BenchmarkVerify and BenchmarkBaseline drift.
func BenchmarkRatio(b *testing.B) {
	ctx := context.Background()
	for _, bc := range benchCases(b) {
		b.Run(bc.name, func(b *testing.B) {
			var verifyNs, baseNs []time.Duration
			for b.Loop() {
				t0 := time.Now()
				_ = bc.v.Verify(ctx, bc.token, Options{})
				t1 := time.Now()
				_ = bc.baseline()
				t2 := time.Now()
				verifyNs = append(verifyNs, t1.Sub(t0))
				baseNs = append(baseNs, t2.Sub(t1))
			}
			mv, mb := median(verifyNs), median(baseNs)
			b.ReportMetric(float64(mv.Nanoseconds()), "verify-median-ns")
			b.ReportMetric(float64(mb.Nanoseconds()), "baseline-median-ns")
			b.ReportMetric(float64(mv)/float64(mb), "ratio")
		})
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
