package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hs256 builds a compact JWS by hand, so that its header and payload JSON
// can be written as a careless publisher writes them (spaces, extra header
// members).
func hs256(secret []byte, header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	in := enc([]byte(header)) + "." + enc([]byte(payload))
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + enc(m.Sum(nil))
}

// secretForms are the forms of a participant value a privacy check greps
// for: plain, upper-case, URL-encoded, base64.
func secretForms(v string) []string {
	return []string{v, strings.ToUpper(v), url.QueryEscape(v), base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
}

// TestVerifyOutputHoldsNoSecret: `verify` text and JSON, valid or not,
// show neither the token (nor any of its segments) nor a participant value,
// also when the JOSE header carries an e-mail address and when the JSON of
// the token starts with a space (no "eyJ" prefix).
func TestVerifyOutputHoldsNoSecret(t *testing.T) {
	dir := t.TempDir()
	secret := []byte("0123456789abcdef0123456789abcdef-shared")
	sf := filepath.Join(dir, "secret.txt")
	if err := os.WriteFile(sf, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	email, birthday := "ada.lovelace@example.com", "1815-12-10"
	payload := ` {"iss":"example-media","sub":"participant-7731","campaignId":"945644","exp":4102444800,"iat":1700000000,` +
		`"form":{"email":"` + email + `","firstname":"Augusta","lastname":"Lovelace","birthday":"` + birthday + `"}}`
	tokens := map[string]string{
		"header with an e-mail": hs256(secret, `{"alg":"HS256","typ":"JWT","x-user":"`+email+`","kid":"`+email+`"}`, payload),
		"spaced JSON":           hs256(secret, ` { "alg" : "HS256" }`, payload),
		"wrong issuer":          hs256(secret, `{"alg":"HS256","x-note":"Augusta Lovelace"}`, strings.Replace(payload, "example-media", "someone-else", 1)),
	}
	for name, tok := range tokens {
		for _, asJSON := range []bool{false, true} {
			args := []string{"verify", "--secret-file", sf, "--iss", "example-media", "--campaign-id", "945644", tok}
			if asJSON {
				args = append(args, "--json")
			}
			code, out, stderr := run(t, "", args...)
			if code != exitOK && code != exitFailed {
				t.Fatalf("%s: exit %d: %s", name, code, stderr)
			}
			all := out + stderr
			var leaks []string
			for _, v := range []string{email, birthday, "participant-7731", "Augusta", "Lovelace"} {
				for _, f := range secretForms(v) {
					if strings.Contains(all, f) {
						leaks = append(leaks, f)
					}
				}
			}
			for _, seg := range strings.Split(tok, ".") {
				if strings.Contains(all, seg) {
					leaks = append(leaks, "token segment "+seg[:8]+"…")
				}
			}
			if len(leaks) > 0 {
				t.Errorf("%s (json %v) shows %v:\n%s", name, asJSON, leaks, all)
			}
			if !strings.Contains(out, "hmac:") {
				t.Errorf("%s (json %v): no keyed fingerprint in\n%s", name, asJSON, out)
			}
		}
	}
}

// TestVerifyUnreachableKeySource: a JWKS URL that cannot be read is no
// verdict on the token (exit 3, env.key_source naming the URL), not
// token.key_unknown.
func TestVerifyUnreachableKeySource(t *testing.T) {
	f := newFixture(t)
	tok := f.mint(t)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write([]byte(`{"keys":[` + strings.Repeat(" ", 2<<20) + `]}`))
		case "/away":
			http.Redirect(w, r, "http://localhost:1/jwks.json", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer big.Close()
	for name, u := range map[string]string{
		"DNS":                 "http://jwks.qualcert-test.invalid/jwks.json",
		"refused":             "http://127.0.0.1:1/jwks.json",
		"oversized":           big.URL + "/big",
		"cross-host redirect": big.URL + "/away",
		"404":                 big.URL + "/missing",
	} {
		code, out, stderr := run(t, "", "verify", "--jwks", u, "--iss", "example-media", tok)
		if code != exitBroken || !strings.Contains(stderr, "no verdict") || !strings.Contains(out, "env.key_source") || !strings.Contains(out+stderr, u) {
			t.Errorf("%s: exit %d\nstdout: %s\nstderr: %s", name, code, out, stderr)
		}
		if strings.Contains(out, "token.key_unknown") {
			t.Errorf("%s: reported as token.key_unknown", name)
		}
	}
}
