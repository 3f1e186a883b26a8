package verify

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/token"
)

// FuzzVerify feeds Verify with mutations of valid tokens, Wycheproof vectors
// and the attack table. Invariants: no panic; a result with a fingerprint
// for any non-empty input; every finding from the catalogue; and nothing is
// accepted but the tokens minted by the test itself.
//
//	go test -run '^$' -fuzz FuzzVerify -fuzztime 3m ./harness/verify/
func FuzzVerify(f *testing.F) {
	es, rs := genKey(f, "ES256", "es"), genKey(f, "RS256", "rs")
	hs := genKey(f, "HS256", "hs")
	enc := genKey(f, "RSA-OAEP-256", "enc")
	cfg := baseConfig()
	cfg.JWKSFile = writeJWKS(f, es.PublicJWK(), rs.PublicJWK())
	cfg.SecretFile = writeSecret(f, hs.Private.([]byte))
	cfg.DecryptionKeyFile = writePrivatePEM(f, enc)
	v := newVerifier(f, cfg)

	valid := map[string]bool{}
	for _, k := range []token.Key{es, rs, hs} {
		valid[sign(f, goodClaims(), k)] = true
	}
	nested, err := token.Nested(goodClaims(), es, enc, jose.A256GCM)
	if err != nil {
		f.Fatal(err)
	}
	valid[nested] = true
	for tok := range valid {
		f.Add(tok)
	}
	for _, at := range attacks(f, newAttackSetup(f)) {
		if len(at.token) <= 2*MaxTokenSize {
			f.Add(at.token)
		}
	}
	for _, name := range []string{"json_web_signature_test.json", "json_web_encryption_test.json"} {
		data, err := os.ReadFile(filepath.Join(wycheproofDir, name))
		if err != nil {
			continue
		}
		var wf wpFile
		if json.Unmarshal(data, &wf) == nil {
			for _, g := range wf.TestGroups {
				for _, tc := range g.Tests {
					f.Add(tc.JWS + tc.JWE)
				}
			}
		}
	}

	ctx := context.Background()
	f.Fuzz(func(t *testing.T, tok string) {
		r := v.Verify(ctx, tok, Options{Campaign: "div"})
		if r == nil {
			t.Fatal("nil result")
		}
		if tok != "" && r.Fingerprint != finding.Fingerprint(tok) {
			t.Fatal("fingerprint missing")
		}
		for _, fd := range r.Findings {
			if _, ok := finding.Lookup(fd.Code); !ok || fd.Campaign != "div" {
				t.Fatalf("finding %+v", fd)
			}
		}
		if r.Valid() && !valid[tok] {
			t.Fatalf("accepted a token the test never minted: %q", tok)
		}
	})
}
