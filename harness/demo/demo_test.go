package demo

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
)

// startDemo serves a demo on a free loopback port for the test.
func startDemo(t *testing.T) *Server {
	t.Helper()
	s, err := Start(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.lateDelay.Store(int64(time.Millisecond)) // the delay itself is not what these tests look at
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// get fetches path on s, with the session cookie when given.
func get(t *testing.T, s *Server, path, cookie string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading: %v", path, err)
	}
	return resp, string(body)
}

// cookieOf returns the session cookie value variant slug is certified with:
// its profile's, none for a LoggedOut variant.
func cookieOf(t *testing.T, s *Server, slug string) string {
	t.Helper()
	p, err := s.Profile(slug)
	if err != nil {
		t.Fatal(err)
	}
	// As the variant is certified: a LoggedOut variant's scenario leaves
	// the profile's session out (Scenario.LoggedOut).
	if v, _ := variantBySlug(slug); v.LoggedOut || len(p.Page.Cookies) == 0 {
		return ""
	}
	return p.Page.Cookies[0].Value
}

// TestVariantsMatchProtocolTable keeps the variants equal to the table of
// harness/kit/PROTOCOL.md, which the harness and the Gherkin suite rely on.
func TestVariantsMatchProtocolTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "kit", "PROTOCOL.md"))
	if err != nil {
		t.Skipf("PROTOCOL.md not readable: %v", err)
	}
	_, table, ok := strings.Cut(string(doc), "## Demo variants")
	if !ok {
		t.Fatal("PROTOCOL.md has no \"## Demo variants\" section")
	}
	var rows [][]string
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "| slug") || strings.HasPrefix(line, "|---") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	if len(rows) != len(variants) {
		t.Errorf("PROTOCOL.md lists %d variants, the demo %d", len(rows), len(variants))
	}
	for _, r := range rows {
		if len(r) != 5 {
			t.Fatalf("row %v: want 5 cells", r)
		}
		v, ok := variantBySlug(r[0])
		if !ok {
			t.Errorf("variant %s of PROTOCOL.md is missing", r[0])
			continue
		}
		var want []finding.Code
		if r[4] != "—" {
			for _, c := range strings.Split(r[4], ",") {
				want = append(want, finding.Code(strings.TrimSpace(c)))
			}
		}
		if v.Good != (r[1] == "yes") || v.LoggedOut != (r[2] == "yes") || string(v.Fault) != r[3] || !slices.Equal(v.Expect, want) {
			t.Errorf("%s: good %v, logged out %v, fault %q, expect %v; PROTOCOL.md says %v", v.Slug, v.Good, v.LoggedOut, v.Fault, v.Expect, r[1:])
		}
	}
	for _, v := range variants {
		if v.Good && len(v.Expect) > 0 {
			t.Errorf("%s is good but expects %v", v.Slug, v.Expect)
		}
		for _, c := range append(slices.Clone(v.Expect), v.Fault) {
			if c == "" {
				continue
			}
			if spec, ok := finding.Lookup(c); !ok || spec.Level == finding.Info {
				t.Errorf("%s: %q is not a must or should code of the catalogue", v.Slug, c)
			}
		}
	}
}

func TestVariantsGoodFirst(t *testing.T) {
	s := startDemo(t)
	vs := s.Variants()
	if len(vs) != len(variants) {
		t.Fatalf("Variants() = %d, want %d", len(vs), len(variants))
	}
	seenFaulty := false
	for _, v := range vs {
		if !v.Good {
			seenFaulty = true
		} else if seenFaulty {
			t.Errorf("good variant %s after a faulty one", v.Slug)
		}
	}
	vs[0].Expect = append(vs[0].Expect, "mutated")
	if slices.Contains(s.Variants()[0].Expect, "mutated") {
		t.Error("Variants() hands out the package's own slices")
	}
}

// setMetaDataCall matches the variants' setMetaData pushes.
var setMetaDataCall = regexp.MustCompile(`_qual_async\.push\(\['setMetaData', 'JWT', ('[^']*'|t\.token), ('[^']*'|[A-Za-z_][A-Za-z0-9_]*)\]\)`)

func TestVariantPagesEmbedTheQualifioTag(t *testing.T) {
	s := startDemo(t)
	for _, v := range s.Variants() {
		t.Run(v.Slug, func(t *testing.T) {
			resp, page := get(t, s, "/v/"+v.Slug, cookieOf(t, s, v.Slug))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if n := strings.Count(page, "'_qual_async','script','https://files.qualifio.com/kit/qualp.2.min.js')"); n != 1 {
				t.Errorf("the loader appears %d times, want once", n)
			}
			for _, c := range v.campaigns() {
				if !strings.Contains(page, "<div id='"+c.DivID+"' class='qualifio_iframe_wrapper'></div>") {
					t.Errorf("no div %s", c.DivID)
				}
				tag := "_qual_async.push(['createIframe','" + c.DivID + "','" + c.Host + "','20','" + c.GUID + "','100%','1200','','','','max-width:810px;margin:0 auto;']);"
				if !strings.Contains(page, tag) {
					t.Errorf("no createIframe for %s on %s", c.DivID, c.Host)
				}
			}
			calls := setMetaDataCall.FindAllStringSubmatch(page, -1)
			var pushes []string // setMetaData calls of the page itself, not of the error listener
			for _, m := range calls {
				if m[2] != "d.divId" {
					pushes = append(pushes, m[2])
				}
			}
			want := len(v.campaigns())
			if v.b.push == pushNever {
				want = 0
			}
			if len(pushes) != want {
				t.Fatalf("%d setMetaData calls %v, want %d", len(pushes), pushes, want)
			}
			for i, div := range pushes {
				c := v.campaigns()[i]
				switch v.b.div {
				case divElement:
					if div != c.DivID {
						t.Errorf("divId argument %s, want the bare identifier %s", div, c.DivID)
					}
				case divWrong:
					if div == "'"+c.DivID+"'" || !strings.HasPrefix(div, "'qualifio_insert_place_") {
						t.Errorf("divId argument %s should be a wrong qualifio div id", div)
					}
				default:
					if div != "'"+c.DivID+"'" {
						t.Errorf("divId argument %s, want '%s'", div, c.DivID)
					}
				}
			}
			if v.b.push == pushQueued {
				loader := strings.Index(page, "files.qualifio.com")
				first := strings.Index(page, "'setMetaData'")
				if first < 0 || first > loader {
					t.Error("setMetaData is not pushed before the loader")
				}
			}
			if got := strings.Contains(page, "qualifio:error"); got != v.b.handlesErrors {
				t.Errorf("listens for qualifio:error: %v, want %v", got, v.b.handlesErrors)
			}
			if got := strings.Contains(page, "'http://localhost:' + location.port + '/pixel.gif"); got != v.b.leaks {
				t.Errorf("sends the token to the pixel: %v, want %v", got, v.b.leaks)
			}
			if v.LoggedOut && !strings.Contains(page, "_qual_async.push(['setMetaData', 'JWT', '', ") {
				t.Error("a logged-out visitor does not get an empty token")
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
	if resp, _ := get(t, s, "/v/no-such-variant", ""); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown variant: status %d, want 404", resp.StatusCode)
	}
}

func TestGuestsGetNoToken(t *testing.T) {
	s := startDemo(t)
	for _, v := range s.Variants() {
		_, page := get(t, s, "/v/"+v.Slug, "")
		if strings.Contains(page, "eyJ") {
			t.Errorf("%s: a visitor with no session gets a token", v.Slug)
		}
		if !strings.Contains(page, "You are reading as a guest") {
			t.Errorf("%s: no login invitation for a guest", v.Slug)
		}
	}
	if resp, _ := get(t, s, tokenPath+"?variant=jws-inline&div="+campaigns[0].DivID, ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/api/token without a session: %d, want 401", resp.StatusCode)
	}
}

// tokensOf returns the tokens variant v hands its campaigns, in campaign
// order: from the page when it renders them, else from /api/token.
func tokensOf(t *testing.T, s *Server, v Variant) []string {
	t.Helper()
	cookie := cookieOf(t, s, v.Slug)
	if cookie == "" {
		cookie = s.profileCookie // a logged-out variant, seen by a logged-in participant
	}
	var out []string
	if v.b.push == pushLate || v.b.push == pushNever {
		for _, c := range v.campaigns() {
			out = append(out, apiToken(t, s, v, c, cookie))
		}
		return out
	}
	_, page := get(t, s, "/v/"+v.Slug, cookie)
	for _, m := range setMetaDataCall.FindAllStringSubmatch(page, -1) {
		if m[1] != "t.token" {
			out = append(out, strings.Trim(m[1], "'"))
		}
	}
	return out
}

func apiToken(t *testing.T, s *Server, v Variant, c campaign, cookie string) string {
	t.Helper()
	resp, body := get(t, s, tokenPath+"?variant="+v.Slug+"&div="+url.QueryEscape(c.DivID), cookie)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/api/token for %s: %d %s", v.Slug, resp.StatusCode, body)
	}
	var r struct{ Token string }
	if err := json.Unmarshal([]byte(body), &r); err != nil || r.Token == "" {
		t.Fatalf("/api/token for %s: %q: %v", v.Slug, body, err)
	}
	return r.Token
}

// decoder opens the demo's tokens with go-jose directly, with the keys a
// verifier would have: the published JWKS and the profile's decryption keys.
type decoder struct {
	jwks   jose.JSONWebKeySet
	encKey *rsa.PrivateKey
	dirKey []byte
}

func newDecoder(t *testing.T, s *Server) decoder {
	t.Helper()
	var d decoder
	_, body := get(t, s, jwksPath, "")
	if err := json.Unmarshal([]byte(body), &d.jwks); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	nested, err := s.Profile("jwe-nested")
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(nested.Token.DecryptionKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("decryption key file: not a PKCS#8 PEM")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	d.encKey = k.(*rsa.PrivateKey)
	dir, err := s.Profile("jwe-dir")
	if err != nil {
		t.Fatal(err)
	}
	jwkBytes, err := os.ReadFile(dir.Token.DecryptionKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(jwkBytes); err != nil {
		t.Fatalf("shared key file: %v", err)
	}
	d.dirKey, _ = jwk.Key.([]byte)
	if len(d.dirKey) != 32 {
		t.Fatalf("shared key: %d bytes, want 32 for A256GCM", len(d.dirKey))
	}
	return d
}

// verifyJWS checks an ES256 JWS against the JWKS and returns its claims.
func (d decoder) verifyJWS(t *testing.T, tok string) map[string]any {
	t.Helper()
	obj, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("not an ES256 JWS: %v", err)
	}
	h := obj.Signatures[0].Header
	if h.KeyID != signKID || h.ExtraHeaders[jose.HeaderType] != "JWT" {
		t.Errorf("JWS header kid %q typ %v, want %q JWT", h.KeyID, h.ExtraHeaders[jose.HeaderType], signKID)
	}
	keys := d.jwks.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys for kid %q", len(keys), h.KeyID)
	}
	payload, err := obj.Verify(keys[0])
	if err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	return claimsOf(t, payload)
}

func claimsOf(t *testing.T, payload []byte) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("claims are not JSON: %v", err)
	}
	return c
}

func (d decoder) decrypt(t *testing.T, tok string, alg jose.KeyAlgorithm) (*jose.JSONWebEncryption, []byte) {
	t.Helper()
	obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{alg}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatalf("not a %s/A256GCM JWE: %v", alg, err)
	}
	var key any = d.encKey
	if alg == jose.DIRECT {
		key = d.dirKey
	}
	plain, err := obj.Decrypt(key)
	if err != nil {
		t.Fatalf("decrypting: %v", err)
	}
	return obj, plain
}

// checkClaims checks the claims every demo token carries.
func checkClaims(t *testing.T, c map[string]any, camp campaign, now time.Time) {
	t.Helper()
	if c["iss"] != issuer || c["sub"] != alice.Sub {
		t.Errorf("iss %v sub %v", c["iss"], c["sub"])
	}
	if id, ok := c["campaignId"].(string); !ok || id != camp.CampaignID {
		t.Errorf("campaignId %#v, want the string %q", c["campaignId"], camp.CampaignID)
	}
	iat, _ := c["iat"].(float64)
	if d := now.Sub(time.Unix(int64(iat), 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("iat %v is not now", c["iat"])
	}
}

// checkTimes checks nbf = iat − 60 s and exp = iat + 10 min.
func checkTimes(t *testing.T, c map[string]any) {
	t.Helper()
	iat, _ := c["iat"].(float64)
	if c["nbf"] != iat-60 || c["exp"] != iat+600 {
		t.Errorf("iat %v nbf %v exp %v: want nbf = iat − 60, exp = iat + 600", iat, c["nbf"], c["exp"])
	}
}

func checkForm(t *testing.T, c map[string]any, without ...string) {
	t.Helper()
	form, ok := c["form"].(map[string]any)
	if !ok {
		t.Fatalf("no form object in %v", keysOf(c))
	}
	want := map[string]any{}
	for k, v := range alice.fields() {
		if !slices.Contains(without, k) {
			want[k] = v
		}
	}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("form has fields %v, want %v", keysOf(form), keysOf(want))
	}
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestTokensDecodeAsDeclared(t *testing.T) {
	s := startDemo(t)
	d := newDecoder(t, s)
	checked := map[mintKind]bool{}
	for _, v := range s.Variants() {
		t.Run(v.Slug, func(t *testing.T) {
			toks := tokensOf(t, s, v)
			if len(toks) != len(v.campaigns()) {
				t.Fatalf("%d tokens for %d campaigns", len(toks), len(v.campaigns()))
			}
			if v.b.handlesErrors {
				// the fresh token a good page re-pushes after an error is of the same kind
				toks = append(toks, apiToken(t, s, v, v.campaigns()[0], s.profileCookie))
			}
			now := time.Now()
			for i, tok := range toks {
				camp := v.campaigns()[i%len(v.campaigns())]
				if i > 0 && tok == toks[0] {
					t.Error("two tokens are identical")
				}
				checkOne(t, s, d, v, camp, tok, now)
			}
			checked[v.b.mint] = true
		})
	}
	for k := mintJWSInline; k <= mintFieldMissing; k++ {
		if !checked[k] {
			t.Errorf("token kind %d is used by no variant", k)
		}
	}
}

func checkOne(t *testing.T, s *Server, d decoder, v Variant, camp campaign, tok string, now time.Time) {
	t.Helper()
	switch v.b.mint {
	case mintJWSInline:
		c := d.verifyJWS(t, tok)
		checkClaims(t, c, camp, now)
		checkTimes(t, c)
		checkForm(t, c)
	case mintFieldMissing:
		c := d.verifyJWS(t, tok)
		checkClaims(t, c, camp, now)
		checkForm(t, c, "lastname")
	case mintExpired:
		c := d.verifyJWS(t, tok)
		checkTimes(t, c)
		if exp, _ := c["exp"].(float64); time.Unix(int64(exp), 0).After(now.Add(-5 * time.Minute)) {
			t.Errorf("exp %v is not well past (beyond a minute of leeway)", exp)
		}
	case mintNotYetValid:
		c := d.verifyJWS(t, tok)
		checkClaims(t, c, camp, now)
		nbf, _ := c["nbf"].(float64)
		exp, _ := c["exp"].(float64)
		if time.Unix(int64(nbf), 0).Before(now.Add(3*time.Minute)) || exp <= nbf {
			t.Errorf("nbf %v exp %v: want nbf minutes ahead and exp after it", nbf, exp)
		}
	case mintJWSAccessToken, mintAccessFailing:
		c := d.verifyJWS(t, tok)
		checkClaims(t, c, camp, now)
		checkTimes(t, c)
		at, _ := c["access_token"].(string)
		if at == "" || c["form"] != nil {
			t.Fatalf("want an access_token and no form, got %v", keysOf(c))
		}
		resp, body := get(t, s, userInfoPath, "", "Authorization", "Bearer "+at)
		want := http.StatusOK
		if v.b.mint == mintAccessFailing {
			want = http.StatusInternalServerError
		}
		if resp.StatusCode != want {
			t.Errorf("user-info: %d, want %d", resp.StatusCode, want)
		}
		if want == http.StatusOK {
			var f map[string]any
			if err := json.Unmarshal([]byte(body), &f); err != nil {
				t.Fatal(err)
			}
			checkForm(t, map[string]any{"form": f})
		}
	case mintDuplicateIss:
		// signed correctly; encoding/json keeps the last iss, so the
		// claims look right to a lax receiver: only the raw text shows both
		c := d.verifyJWS(t, tok)
		checkClaims(t, c, camp, now)
		checkForm(t, c)
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(payload), `{"iss":"attacker",`) || strings.Count(string(payload), `"iss":`) != 2 {
			t.Fatalf("want two iss members, the attacker's first: %s", payload)
		}
	case mintBadSignature:
		obj, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatalf("a tampered token should still parse: %v", err)
		}
		if _, err := obj.Verify(d.jwks.Key(signKID)[0]); err == nil {
			t.Fatal("a tampered signature verifies")
		}
		c := claimsOf(t, obj.UnsafePayloadWithoutVerification())
		checkClaims(t, c, camp, now)
		checkForm(t, c)
	case mintAlgNone:
		parts := strings.Split(tok, ".")
		if len(parts) != 3 || parts[2] != "" {
			t.Fatalf("want header.payload. with an empty signature, got %d parts", len(parts))
		}
		head, err := base64.RawURLEncoding.DecodeString(parts[0])
		if err != nil {
			t.Fatal(err)
		}
		var h map[string]any
		if err := json.Unmarshal(head, &h); err != nil || h["alg"] != "none" {
			t.Fatalf("header %s: want alg none", head)
		}
		payload, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		c := claimsOf(t, payload)
		checkClaims(t, c, camp, now)
		checkForm(t, c)
	case mintJWENested:
		obj, plain := d.decrypt(t, tok, jose.RSA_OAEP_256)
		if obj.Header.ExtraHeaders[jose.HeaderContentType] != "JWT" || obj.Header.KeyID != encKID {
			t.Errorf("JWE header cty %v kid %q, want JWT %q", obj.Header.ExtraHeaders[jose.HeaderContentType], obj.Header.KeyID, encKID)
		}
		c := d.verifyJWS(t, string(plain))
		checkClaims(t, c, camp, now)
		checkTimes(t, c)
		checkForm(t, c)
	case mintJWEDir:
		obj, plain := d.decrypt(t, tok, jose.DIRECT)
		if _, nested := obj.Header.ExtraHeaders[jose.HeaderContentType]; nested {
			t.Error("a direct JWE of raw claims has no cty")
		}
		c := claimsOf(t, plain)
		checkClaims(t, c, camp, now)
		checkTimes(t, c)
		checkForm(t, c)
	case mintJWEUnsigned:
		obj, plain := d.decrypt(t, tok, jose.RSA_OAEP_256)
		if _, nested := obj.Header.ExtraHeaders[jose.HeaderContentType]; nested {
			t.Error("the unsigned JWE announces a nested JWT")
		}
		if _, err := jose.ParseSigned(string(plain), []jose.SignatureAlgorithm{jose.ES256}); err == nil {
			t.Error("the unsigned JWE nests a JWS")
		}
		c := claimsOf(t, plain)
		checkClaims(t, c, camp, now)
		checkForm(t, c)
	default:
		t.Fatalf("no check for token kind %d", v.b.mint)
	}
}

func TestJWKSServesOnlyPublicKeys(t *testing.T) {
	s := startDemo(t)
	resp, body := get(t, s, jwksPath, "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JWKS: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var raw struct{ Keys []map[string]any }
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	if len(raw.Keys) != 1 {
		t.Fatalf("JWKS has %d keys, want the signing key only", len(raw.Keys))
	}
	k := raw.Keys[0]
	for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
		if _, ok := k[private]; ok {
			t.Errorf("the JWKS key has the private member %q", private)
		}
	}
	if k["kid"] != signKID || k["alg"] != "ES256" || k["use"] != "sig" || k["kty"] != "EC" {
		t.Errorf("JWKS key %v", k)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatal(err)
	}
	if _, ok := set.Keys[0].Key.(*ecdsa.PublicKey); !ok || !set.Keys[0].IsPublic() {
		t.Errorf("JWKS key is a %T", set.Keys[0].Key)
	}
	for _, path := range []string{"/qualifio-enc.pem", "/shared-a256gcm.jwk.json", "/static/../" + filepath.Base(s.KeyDir())} {
		if resp, _ := get(t, s, path, ""); resp.StatusCode == http.StatusOK {
			t.Errorf("%s is served", path)
		}
	}
}

func TestKeyFilesArePrivate(t *testing.T) {
	s := startDemo(t)
	for _, slug := range []string{"jwe-nested", "jwe-dir"} {
		p, err := s.Profile(slug)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p.Token.DecryptionKeyFile)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 || filepath.Dir(p.Token.DecryptionKeyFile) != s.KeyDir() {
			t.Errorf("%s: %s mode %v", slug, p.Token.DecryptionKeyFile, fi.Mode().Perm())
		}
	}
	if fi, err := os.Stat(s.KeyDir()); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("key folder: %v %v", fi, err)
	}
}

func TestLoginSessionLogout(t *testing.T) {
	s := startDemo(t)
	resp, _ := get(t, s, "/account", "")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("/account without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, form := get(t, s, "/login", "")
	if !strings.Contains(form, `name="email"`) || !strings.Contains(form, `name="password"`) || !strings.Contains(form, alice.Email) || !strings.Contains(form, alice.Password) {
		t.Error("the login page lacks the form or the demo account")
	}

	post := func(email, password, next string) *http.Response {
		t.Helper()
		resp, err := noRedirect.PostForm(s.URL+"/login", url.Values{"email": {email}, "password": {password}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(alice.Email, "wrong", "/"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("wrong password: %d with %d cookies", resp.StatusCode, len(resp.Cookies()))
	}
	if resp := post("bob@demo-media.test", alice.Password, "/"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown account: %d", resp.StatusCode)
	}
	if resp := post(alice.Email, alice.Password, "//evil.example/phish"); resp.Header.Get("Location") != "/" {
		t.Errorf("an off-site next is followed: %s", resp.Header.Get("Location"))
	}
	resp = post(strings.ToUpper(alice.Email), alice.Password, "/v/jws-inline")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/v/jws-inline" {
		t.Fatalf("login: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var sess *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			sess = c
		}
	}
	if sess == nil || !sess.HttpOnly || sess.Value == s.profileCookie {
		t.Fatalf("session cookie %v", sess)
	}
	resp, account := get(t, s, "/account", sess.Value)
	if resp.StatusCode != http.StatusOK || !strings.Contains(account, alice.LastName) {
		t.Fatalf("/account with a session: %d", resp.StatusCode)
	}
	if _, page := get(t, s, "/v/jws-inline", sess.Value); !strings.Contains(page, "Hello, "+alice.FirstName) || !strings.Contains(page, "'setMetaData', 'JWT', 'eyJ") {
		t.Error("a logged-in participant gets no greeting or no token")
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL+"/logout", nil)
	req.AddCookie(sess)
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	if resp, _ := get(t, s, "/account", sess.Value); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("/account after logout: %d", resp.StatusCode)
	}
	if resp, _ := get(t, s, "/account", s.profileCookie); resp.StatusCode != http.StatusOK {
		t.Errorf("the profile's session: %d", resp.StatusCode)
	}
}

func TestUserInfoNeedsAValidBearer(t *testing.T) {
	s := startDemo(t)
	for name, h := range map[string][]string{
		"no header":        nil,
		"unknown token":    {"Authorization", "Bearer not-a-token-we-issued"},
		"empty bearer":     {"Authorization", "Bearer "},
		"basic auth":       {"Authorization", "Basic YWxpY2U6cGFzcw=="},
		"a session cookie": {"Cookie", sessionCookie + "=" + s.profileCookie},
	} {
		resp, body := get(t, s, userInfoPath, "", h...)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: %d %s", name, resp.StatusCode, body)
		}
		if strings.Contains(body, alice.Email) {
			t.Errorf("%s: the participant's data leaks", name)
		}
	}
}

func TestIndexListsEveryVariant(t *testing.T) {
	s := startDemo(t)
	resp, page := get(t, s, "/", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("index: %d", resp.StatusCode)
	}
	for _, v := range s.Variants() {
		i := strings.Index(page, `data-slug="`+v.Slug+`"`)
		if i < 0 {
			t.Errorf("%s is not listed", v.Slug)
			continue
		}
		card := page[i:]
		card = card[:strings.Index(card, "</article>")]
		for _, want := range append([]string{`href="/v/` + v.Slug + `"`, v.Title}, stringsOf(v.Expect)...) {
			if !strings.Contains(card, want) {
				t.Errorf("%s: the card lacks %q", v.Slug, want)
			}
		}
		if v.Good != strings.Contains(card, ">good<") {
			t.Errorf("%s: the card does not say good/faulty right", v.Slug)
		}
		if v.Fault != "" && !strings.Contains(card, string(v.Fault)) {
			t.Errorf("%s: the card does not name the fault", v.Slug)
		}
	}
	if !strings.Contains(page, "qualcert run") || !strings.Contains(page, alice.Email) {
		t.Error("the index lacks the kit notice or the demo account")
	}
	if resp, _ := get(t, s, "/static/site.css", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("stylesheet: %d", resp.StatusCode)
	}
}

func stringsOf(cs []finding.Code) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func TestProfiles(t *testing.T) {
	s := startDemo(t)
	for _, v := range s.Variants() {
		p, err := s.Profile(v.Slug)
		if err != nil {
			t.Fatalf("%s: %v", v.Slug, err)
		}
		if p.Page.URL != s.URL+"/v/"+v.Slug || !strings.HasPrefix(p.Name, "Demo Media — ") {
			t.Errorf("%s: page %s name %s", v.Slug, p.Page.URL, p.Name)
		}
		// Every profile has the session, the logged-out variant's too: being
		// logged out is its scenario's condition (Profile).
		if len(p.Page.Cookies) != 1 {
			t.Errorf("%s: %d cookies, want the session (logged-out variant: %v)", v.Slug, len(p.Page.Cookies), v.LoggedOut)
		}
		for _, c := range p.Page.Cookies {
			if c.Domain != "127.0.0.1" || c.Name != sessionCookie || c.Value == "" {
				t.Errorf("%s: cookie %+v", v.Slug, c)
			}
		}
		if len(p.Campaigns) != len(v.campaigns()) || p.Campaigns[0].Host != "jeux.demo-media.test" {
			t.Errorf("%s: campaigns %+v", v.Slug, p.Campaigns)
		}
		if v.encrypted() != (p.Token.DecryptionKeyFile != "") {
			t.Errorf("%s: decryption key file %q", v.Slug, p.Token.DecryptionKeyFile)
		}
		wantMode := profile.ModeInline
		if v.accessToken() {
			wantMode = profile.ModeAccessToken
		}
		if p.Token.Mode != wantMode || (v.accessToken() != (p.UserInfo.URL == s.URL+userInfoPath)) {
			t.Errorf("%s: mode %s userinfo %q", v.Slug, p.Token.Mode, p.UserInfo.URL)
		}
		if p.Token.Issuer != issuer || p.Token.JWKSURL != s.URL+jwksPath || p.Timing.Timeout.D() != profile.DefaultScenarioTimeout || p.Timing.GetMetaDataDelay != 0 {
			t.Errorf("%s: token %+v timing %+v", v.Slug, p.Token, p.Timing)
		}
	}
	if _, err := s.Profile("nope"); err == nil || !strings.Contains(err.Error(), "jws-inline") {
		t.Errorf("unknown slug: %v", err)
	}
}

func TestWriteProfileRoundTrips(t *testing.T) {
	s := startDemo(t)
	dir := t.TempDir()
	for _, v := range s.Variants() {
		path := filepath.Join(dir, v.Slug+".yaml")
		if err := s.WriteProfile(v.Slug, path); err != nil {
			t.Fatal(err)
		}
		loaded, err := profile.Load(path)
		if err != nil {
			data, _ := os.ReadFile(path)
			t.Fatalf("%s: %v\n%s", v.Slug, err, data)
		}
		want, err := s.Profile(v.Slug)
		if err != nil {
			t.Fatal(err)
		}
		want.Dir = loaded.Dir
		// Every exported field, as JSON: Load also remembers the file it
		// read (unexported, for its error messages), which want cannot have.
		got, _ := json.Marshal(loaded)
		exp, _ := json.Marshal(want)
		if string(got) != string(exp) {
			t.Errorf("%s: loaded %s\nwant %s", v.Slug, got, exp)
		}
	}
	if err := s.WriteProfile("nope", filepath.Join(dir, "x.yaml")); err == nil {
		t.Error("an unknown slug is written")
	}
}

func TestCloseRemovesKeysAndStops(t *testing.T) {
	s, err := Start(t.Context(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := s.KeyDir()
	if _, err := os.Stat(dir); err != nil {
		t.Fatal(err)
	}
	// a token-late request waiting when Close comes must not hold Close up
	s.lateDelay.Store(int64(time.Hour))
	waiting := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, s.URL+tokenPath+"?variant=token-late&div="+campaigns[0].DivID, nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: s.profileCookie})
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		waiting <- err
	}()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for the token-late handler")
	}
	select {
	case <-waiting:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting request never ended")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key folder after Close: %v", err)
	}
	if _, err := http.Get(s.URL + "/"); err == nil {
		t.Error("the server still answers after Close")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartFailsCleanly(t *testing.T) {
	s := startDemo(t)
	host := strings.TrimPrefix(s.URL, "http://")
	before, _ := filepath.Glob(filepath.Join(os.TempDir(), "qualcert-demo-keys-*"))
	if _, err := Start(t.Context(), host); err == nil || !strings.Contains(err.Error(), "listening on") {
		t.Fatalf("a port in use: %v", err)
	}
	after, _ := filepath.Glob(filepath.Join(os.TempDir(), "qualcert-demo-keys-*"))
	if len(after) > len(before) {
		t.Errorf("a failed Start leaves its key folder behind: %v", after)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Start(ctx, "127.0.0.1:0"); err == nil {
		t.Error("Start with a cancelled context")
	}
}
