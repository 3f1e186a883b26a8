package kit

import (
	"context"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/token"
	"github.com/qualcert/qualcert/harness/verify"
)

// The campaign judges the token's times as of Config.At (qualcert run --at):
// a token captured days ago is expired now and valid as of its capture.
func TestVerifyAsOfAt(t *testing.T) {
	captured := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	claims := map[string]any{"iss": "iss", "sub": "s", "campaignId": "111", "iat": captured.Unix(), "nbf": captured.Unix() - 60,
		"exp": captured.Unix() + 300, "form": map[string]any{"email": "qa@example.com"}}
	for _, tc := range []struct {
		at   time.Time
		want finding.Code
	}{{time.Time{}, finding.TokenExpired}, {captured.Add(10 * time.Second), ""}} {
		s, _ := testServer(t, "")
		v, err := verify.New(context.Background(), verify.ConfigFromProfile(s.cfg.Profile))
		if err != nil {
			t.Fatal(err)
		}
		s.cfg.Verifier, s.cfg.At = v, tc.at
		tok, err := token.Sign(claims, token.Key{Alg: "HS256", Private: []byte("0123456789abcdef0123456789abcdef")}, token.SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		a := verifyCall(t, s, `"`+tok+`"`)
		if a.Code != string(tc.want) || a.OK != (tc.want == "") {
			t.Errorf("at %v: answer %+v, want code %q", tc.at, a, tc.want)
		}
	}
}
