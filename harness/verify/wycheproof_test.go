package verify

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
)

// Project Wycheproof's JSON Web Crypto vectors (../shared/testdata/wycheproof,
// format in json_web_crypto.md). The payloads are not JWTs, so the vectors
// exercise the JOSE layer (openToken / openJWE): the claims layer is tested
// elsewhere. The rules:
//   - no invalid vector is ever accepted (refused by New, when the key set
//     itself is unacceptable, or by the JOSE layer);
//   - every valid vector whose algorithm the policy allows is accepted, with
//     the expected plaintext for a JWE;
//   - the other valid vectors are refused with token.alg_forbidden.
// Asymmetric JWE vectors carry bare plaintexts: they are decrypted (and the
// plaintext compared), then must be refused as token.jwe_unauthenticated by
// the nesting rule.

const wycheproofDir = "../../../shared/testdata/wycheproof"

// shortSecretsJudged are invalid vectors (an HMAC key shorter than its
// hash) that qualcert verifies on purpose, with the should finding
// token.secret_short, so that a publisher's weak secret is named rather
// than every token refused (TestShortSecretIsJudged checks the finding).
var shortSecretsJudged = map[string]bool{
	"json_web_key_test.json#10": true, // HS256/key_too_short
	"json_web_key_test.json#11": true, // HS384/key_too_short
	"json_web_key_test.json#12": true, // HS512/key_too_short
}

// knownDeviations are valid vectors qualcert refuses on purpose.
var knownDeviations = map[string]string{
	"json_web_signature_test.json#372": "a '?' inside the header: qualcert refuses non-base64url characters instead of skipping them",
	"json_web_signature_test.json#373": "a '?' inside the payload: qualcert refuses non-base64url characters instead of skipping them",
}

// inconsistentVectors are "invalid" vectors whose token is byte for byte a
// valid vector of the same group (the padding their name speaks of is not in
// the file): no verifier can refuse one and accept the other. The test checks
// that claim rather than trusting it.
var inconsistentVectors = map[string]int{
	"json_web_signature_test.json#367": 357,
	"json_web_signature_test.json#370": 357,
}

// loadRefusals are the key groups New must refuse, and why.
var loadRefusals = map[string]string{
	"jws_rsa_roca_key":        "ROCA",
	"keysize_too_small":       "1024 bits",
	"exponentOne":             "bad e value",
	"jws_mixedSymmetryKeyset": "mixes symmetric and asymmetric",
	"jws_duplicate_kid":       "share kid",
}

type wpFile struct {
	NumberOfTests int `json:"numberOfTests"`
	TestGroups    []struct {
		Comment string          `json:"comment"`
		Private json.RawMessage `json:"private"`
		Public  json.RawMessage `json:"public"`
		Tests   []struct {
			TcID    int      `json:"tcId"`
			Comment string   `json:"comment"`
			JWS     string   `json:"jws"`
			JWE     string   `json:"jwe"`
			PT      string   `json:"pt"`
			Result  string   `json:"result"`
			Flags   []string `json:"flags"`
		} `json:"tests"`
	} `json:"testGroups"`
}

type wpCounts struct {
	total, invalidRefused, validAccepted, validPolicyRefused, validUnauthenticated, deviations int
	refusedByLoad, inconsistent                                                                int
	byCode                                                                                     map[finding.Code]int
}

func loadWycheproof(t testing.TB, name string) wpFile {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(wycheproofDir, name))
	if err != nil {
		t.Skipf("Wycheproof vectors not available: %v", err)
	}
	var f wpFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f
}

// wycheproofConfig turns a group's key into a verifier configuration: oct
// signing keys as a secret file (a JWK/JWKS of oct keys), other signing keys
// as a JWKS file, and JWE keys as the decryption key file.
func wycheproofConfig(t testing.TB, private, public json.RawMessage, jwe bool) Config {
	cfg := Config{}
	if jwe {
		cfg.DecryptionKeyFile = writeFile(t, "dec.json", private)
		return cfg
	}
	if bytes.Contains(private, []byte(`"kty": "oct"`)) || bytes.Contains(private, []byte(`"kty":"oct"`)) {
		cfg.SecretFile = writeFile(t, "secret.json", private)
		if bytes.Contains(private, []byte(`"kty": "EC"`)) || bytes.Contains(private, []byte(`"kty": "RSA"`)) {
			// a mixed set: give it as a JWKS, where it must be refused
			cfg.SecretFile, cfg.JWKSFile = "", writeFile(t, "jwks.json", private)
		}
		return cfg
	}
	key := public
	if len(key) == 0 {
		key = private
	}
	cfg.JWKSFile = writeFile(t, "jwks.json", key)
	return cfg
}

func TestWycheproof(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"json_web_signature_test.json", "json_web_key_test.json", "json_web_encryption_test.json"} {
		t.Run(strings.TrimSuffix(name, "_test.json"), func(t *testing.T) {
			f := loadWycheproof(t, name)
			jwe := strings.Contains(name, "encryption")
			c := wpCounts{byCode: map[finding.Code]int{}}
			for _, g := range f.TestGroups {
				cfg := wycheproofConfig(t, g.Private, g.Public, jwe)
				v, loadErr := New(ctx, cfg)
				if want, ok := loadRefusals[g.Comment]; ok && (loadErr == nil || !strings.Contains(loadErr.Error(), want)) {
					t.Errorf("group %s: New error %v, want one mentioning %q", g.Comment, loadErr, want)
				}
				for _, tc := range g.Tests {
					c.total++
					id := name + "#" + itoa(tc.TcID)
					tok := tc.JWS
					if jwe {
						tok = tc.JWE
					}
					if loadErr != nil {
						if tc.Result == "valid" {
							t.Errorf("%s (%s/%s): valid vector, but its key was refused: %v", id, g.Comment, tc.Comment, loadErr)
							continue
						}
						c.invalidRefused++
						c.refusedByLoad++
						continue
					}
					code, pt := wycheproofJudge(ctx, v, tok, jwe)
					if twin, ok := inconsistentVectors[id]; ok {
						if tokenOf(f, twin) != tok {
							t.Errorf("%s: listed as a copy of #%d, but the tokens differ", id, twin)
						}
						c.inconsistent++
						continue
					}
					switch {
					case tc.Result != "valid" && shortSecretsJudged[id]:
						if code != "" {
							t.Errorf("%s: a short secret is refused with %s: it should be judged with token.secret_short", id, code)
						}
						c.deviations++
					case tc.Result != "valid":
						if code == "" {
							t.Errorf("%s (%s/%s): INVALID vector accepted", id, g.Comment, tc.Comment)
							continue
						}
						c.invalidRefused++
						c.byCode[code]++
					case knownDeviations[id] != "":
						if code == "" {
							t.Errorf("%s: documented deviation no longer refused: remove it from knownDeviations", id)
						}
						c.deviations++
					case code == "":
						if jwe && tc.PT != "" {
							want, _ := hex.DecodeString(tc.PT)
							if !bytes.Equal(pt, want) {
								t.Errorf("%s: decrypted %x, want %s", id, pt, tc.PT)
							}
						}
						// the nesting rule on top of the decryption
						if jwe {
							if _, bad := v.openToken(ctx, tok); bad != nil {
								if bad.Code != finding.TokenJWEUnauthenticated {
									t.Errorf("%s: decrypted, then refused with %s: %s", id, bad.Code, bad.Message)
								}
								c.validUnauthenticated++
								continue
							}
						}
						c.validAccepted++
					case code == finding.TokenAlgForbidden:
						c.validPolicyRefused++
					default:
						t.Errorf("%s (%s/%s): valid vector refused with %s, not accepted nor alg_forbidden", id, g.Comment, tc.Comment, code)
					}
				}
			}
			if c.total != f.NumberOfTests {
				t.Errorf("ran %d vectors, the file has %d", c.total, f.NumberOfTests)
			}
			var codes []string
			for code, n := range c.byCode {
				codes = append(codes, string(code)+"="+itoa(n))
			}
			sort.Strings(codes)
			t.Logf("%s: %d vectors: invalid refused %d (by New %d; %s); valid accepted %d; valid refused by policy (alg_forbidden) %d; valid decrypted then refused as jwe_unauthenticated %d; documented deviations %d; inconsistent vectors skipped %d",
				name, c.total, c.invalidRefused, c.refusedByLoad, strings.Join(codes, " "), c.validAccepted, c.validPolicyRefused, c.validUnauthenticated, c.deviations, c.inconsistent)
		})
	}
}

// wycheproofJudge runs the JOSE layer: for a JWE only the decryption (the
// nesting rule is checked by the caller), for a JWS the whole layer.
func wycheproofJudge(ctx context.Context, v *Verifier, tok string, jwe bool) (finding.Code, []byte) {
	if tok == "" {
		return finding.TokenMissing, nil
	}
	if len(tok) > MaxTokenSize {
		return finding.TokenTooLarge, nil
	}
	if jwe {
		if tok[0] == '{' {
			_, bad := v.openToken(ctx, tok)
			return bad.Code, nil
		}
		dots, bad := scanCompact(tok)
		if bad != nil {
			return bad.Code, nil
		}
		if dots != 4 {
			return finding.TokenMalformed, nil
		}
		_, pt, bad := v.openJWE(tok)
		if bad != nil {
			return bad.Code, nil
		}
		return "", pt
	}
	op, bad := v.openToken(ctx, tok)
	if bad != nil {
		return bad.Code, nil
	}
	return "", op.payload
}

func tokenOf(f wpFile, id int) string {
	for _, g := range f.TestGroups {
		for _, tc := range g.Tests {
			if tc.TcID == id {
				return tc.JWS + tc.JWE
			}
		}
	}
	return ""
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
