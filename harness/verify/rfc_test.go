package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
)

// Examples of RFC 7515 and RFC 7516, written out byte for byte. They are
// self-checking: a mistyped key, header or signature would fail the
// signature or the authentication tag, not pass silently. RFC 7520's
// examples (Figures 13, 20, 27, 35 for JWS; 81, 92, 117, 128, 136, 148, 159,
// 170 for JWE) run in TestWycheproof, which carries them with their keys.
// RFC 7515 A.2 (RS256) and A.4 (ES512) and RFC 7516 A.1/A.2 (RSA keys) are
// not reproduced here: their keys are too long to copy reliably.

// The JWS payload of RFC 7515 appendix A: {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
const rfc7515Payload = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"

func TestRFCExamples(t *testing.T) {
	ctx := context.Background()
	payload, _ := base64.RawURLEncoding.DecodeString(rfc7515Payload)
	cases := []struct {
		name, key, keyFile, token string
		want                      []byte
		refuse                    finding.Code
	}{
		{
			name:    "RFC 7515 A.1 HS256",
			keyFile: "secret",
			key:     `{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}`,
			token:   "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9." + rfc7515Payload + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
			want:    payload,
		},
		{
			name:    "RFC 7515 A.3 ES256",
			keyFile: "jwks",
			key:     `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`,
			token:   "eyJhbGciOiJFUzI1NiJ9." + rfc7515Payload + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q",
			want:    payload,
		},
		{
			name:    "RFC 7515 A.5 unsecured JWS",
			keyFile: "jwks",
			key:     `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`,
			token:   "eyJhbGciOiJub25lIn0." + rfc7515Payload + ".",
			refuse:  finding.TokenAlgForbidden,
		},
		{
			name:    "RFC 7516 A.3 A128KW with A128CBC-HS256",
			keyFile: "dec",
			key:     `{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}`,
			token: "eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0." +
				"6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ." +
				"AxY8DCtDaGlsbGljb3RoZQ." +
				"KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY." +
				"U0m_YmjN04DJvceFICbCVQ",
			want: []byte("Live long and prosper."),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{}
			path := writeFile(t, "key.json", []byte(tc.key))
			switch tc.keyFile {
			case "secret":
				cfg.SecretFile = path
			case "jwks":
				cfg.JWKSFile = path
			case "dec":
				cfg.DecryptionKeyFile = path
			}
			v := newVerifier(t, cfg)
			op, bad := v.openToken(ctx, tc.token)
			if tc.refuse != "" {
				if bad == nil || bad.Code != tc.refuse {
					t.Fatalf("want %s, got %v", tc.refuse, bad)
				}
				return
			}
			if bad != nil {
				t.Fatalf("refused: %s: %s", bad.Code, bad.Message)
			}
			if string(op.payload) != string(tc.want) {
				t.Fatalf("payload %q, want %q", op.payload, tc.want)
			}
			// and the whole verifier reads the claims (they are not a
			// Qualifio token, so the claims layer has its say)
			r := v.Verify(ctx, tc.token, Options{})
			var claims map[string]any
			if json.Unmarshal(tc.want, &claims) == nil && r.Claims == nil {
				t.Fatalf("claims not read: %v", r.Findings)
			}
		})
	}
}
