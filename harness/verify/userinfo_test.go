package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

const userInfoURL = "https://api.example.com/userinfo"

// fakeClock is Config.Now for tests that need time to pass: a responder
// advances it to "take" some time, deterministically.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func accessClaims() map[string]any {
	c := goodClaims()
	delete(c, "form")
	c["access_token"] = "opaque-123"
	return c
}

func participantJSON() map[string]any {
	return map[string]any{"email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace"}
}

// userInfoSetup is a verifier in access-token mode whose HTTP client goes to
// a fresh httpmock transport (never the global one).
func userInfoSetup(t *testing.T, mutate func(*Config)) (*Verifier, *httpmock.MockTransport, string, *fakeClock) {
	t.Helper()
	k := genKey(t, "ES256", "k")
	mock := httpmock.NewMockTransport()
	clock := &fakeClock{t: testNow}
	cfg := baseConfig()
	cfg.Mode = profile.ModeAccessToken
	cfg.PublicKeyFile = writePublicPEM(t, k)
	cfg.UserInfo = profile.UserInfo{URL: userInfoURL, Method: "GET", Timeout: profile.Duration(2 * time.Second)}
	cfg.HTTPClient = &http.Client{Transport: mock}
	cfg.Now = clock.Now
	if mutate != nil {
		mutate(&cfg)
	}
	return newVerifier(t, cfg), mock, sign(t, accessClaims(), k), clock
}

func bearerOnly(next httpmock.Responder) httpmock.Responder {
	return func(req *http.Request) (*http.Response, error) {
		if req.Header.Get("Authorization") != "Bearer opaque-123" {
			return httpmock.NewStringResponse(401, `{"error":"no bearer"}`), nil
		}
		return next(req)
	}
}

func TestUserInfoSuccess(t *testing.T) {
	v, mock, tok, _ := userInfoSetup(t, nil)
	resp, err := httpmock.NewJsonResponder(200, participantJSON())
	if err != nil {
		t.Fatal(err)
	}
	mock.RegisterResponder("GET", userInfoURL, bearerOnly(resp))
	rec := timeline.New()
	r := v.Verify(context.Background(), tok, Options{Campaign: "div1", Timeline: rec})
	expectOnly(t, r)
	if r.Mode != "access_token" || r.Fields["lastname"] != "Lovelace" || r.UserInfo == nil || r.UserInfo.Status != 200 {
		t.Fatalf("result %+v (userinfo %+v)", r, r.UserInfo)
	}
	events := timeline.Find(rec.Events(), timeline.UserInfoCall, "div1")
	if len(events) != 1 || events[0].Data["status"] != 200 || events[0].Source != timeline.UserInfo {
		t.Fatalf("timeline %+v", rec.Events())
	}
	b, _ := json.Marshal(events[0])
	for _, secret := range []string{"opaque-123", "Lovelace", "ada@"} {
		if strings.Contains(string(b), secret) {
			t.Fatalf("timeline event leaks %q: %s", secret, b)
		}
	}
}

func TestUserInfoFailures(t *testing.T) {
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
	cases := []struct {
		name      string
		mutate    func(*Config)
		responder httpmock.Responder
		want      []finding.Code
	}{
		{"timeout", func(c *Config) { c.UserInfo.Timeout = profile.Duration(50 * time.Millisecond) },
			func(req *http.Request) (*http.Response, error) {
				<-req.Context().Done() // answers only when the client gives up
				return nil, req.Context().Err()
			}, []finding.Code{finding.UserInfoTimeout}},
		{"401", nil, httpmock.NewStringResponder(401, `{"error":"invalid_token"}`), []finding.Code{finding.UserInfoStatus}},
		{"500", nil, httpmock.NewStringResponder(500, "boom"), []finding.Code{finding.UserInfoStatus}},
		{"redirect to another host", nil, func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(302, "")
			r.Header.Set("Location", "https://evil.example/steal")
			return r, nil
		}, []finding.Code{finding.UserInfoStatus}},
		{"HTML instead of JSON", nil, func(*http.Request) (*http.Response, error) {
			r := httpmock.NewStringResponse(200, "<!doctype html><html><body>Login</body></html>")
			r.Header.Set("Content-Type", "text/html")
			return r, nil
		}, []finding.Code{finding.UserInfoBadResponse}},
		{"2 MiB body", nil, httpmock.NewStringResponder(200, big), []finding.Code{finding.UserInfoBadResponse}},
		{"JSON array", nil, httpmock.NewStringResponder(200, `[1,2]`), []finding.Code{finding.UserInfoBadResponse}},
		{"missing fields", nil, httpmock.NewStringResponder(200, `{"email":"ada@example.com"}`), []finding.Code{finding.PIIFieldMissing, finding.PIIFieldMissing}},
		{"bad email", nil, httpmock.NewStringResponder(200, `{"email":"nope","firstname":"A","lastname":"L"}`), []finding.Code{finding.PIIFieldInvalid}},
		{"fields_path found", func(c *Config) { c.UserInfo.FieldsPath = "data.user" },
			httpmock.NewStringResponder(200, `{"data":{"user":{"email":"ada@example.com","firstname":"A","lastname":"L"}}}`), nil},
		{"fields_path missing", func(c *Config) { c.UserInfo.FieldsPath = "data.user" },
			httpmock.NewStringResponder(200, `{"data":{"email":"ada@example.com"}}`), []finding.Code{finding.UserInfoBadResponse}},
		{"transport error", nil, httpmock.NewErrorResponder(fmt.Errorf("connection refused")), []finding.Code{finding.UserInfoUnreachable}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, mock, tok, _ := userInfoSetup(t, tc.mutate)
			mock.RegisterResponder("GET", userInfoURL, bearerOnly(tc.responder))
			r := v.Verify(context.Background(), tok, Options{})
			expectOnly(t, r, tc.want...)
			if n := mock.GetTotalCallCount(); n != 1 {
				t.Fatalf("%d calls, want exactly 1 (no redirect followed, no retry)", n)
			}
		})
	}
}

func TestUserInfoSlowAndPOST(t *testing.T) {
	v, mock, tok, clock := userInfoSetup(t, func(c *Config) { c.UserInfo.Method = "POST" })
	mock.RegisterResponder("POST", userInfoURL, bearerOnly(func(*http.Request) (*http.Response, error) {
		clock.Advance(1200 * time.Millisecond) // the webservice "takes" 1.2 s
		return httpmock.NewJsonResponse(200, participantJSON())
	}))
	r := v.Verify(context.Background(), tok, Options{})
	expectOnly(t, r, finding.UserInfoSlow)
	if r.UserInfo.DurationMs != 1200 || r.UserInfo.Method != "POST" {
		t.Fatalf("call %+v", r.UserInfo)
	}
}

func TestUserInfoNoURLConfigured(t *testing.T) {
	v, _, tok, _ := userInfoSetup(t, func(c *Config) { c.UserInfo.URL = "" })
	expectOnly(t, v.Verify(context.Background(), tok, Options{}), finding.UserInfoUnreachable)
}

// TestUserInfoRealServer runs the client against a real loopback server.
func TestUserInfoRealServer(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer opaque-123" || r.Method != http.MethodGet {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"profile": participantJSON()})
	}))
	defer srv.Close()
	// real clock, default HTTP client, a token minted now
	k := genKey(t, "ES256", "k")
	cfg := baseConfig()
	cfg.Now = nil
	cfg.Mode = profile.ModeAccessToken
	cfg.PublicKeyFile = writePublicPEM(t, k)
	cfg.UserInfo = profile.UserInfo{URL: srv.URL + "/userinfo", Method: "GET", FieldsPath: "profile", Timeout: profile.Duration(5 * time.Second)}
	v := newVerifier(t, cfg)
	c := accessClaims()
	now := time.Now().Unix()
	c["iat"], c["nbf"], c["exp"] = now, now-60, now+300
	r := v.Verify(context.Background(), sign(t, c, k), Options{})
	expectOnly(t, r)
	if calls.Load() != 1 || len(r.FieldNames) != 3 {
		t.Fatalf("calls %d, fields %v", calls.Load(), r.FieldNames)
	}
}

func TestJWKSURL(t *testing.T) {
	k := genKey(t, "ES256", "k1")
	jwks, _ := json.Marshal(map[string]any{"keys": []any{k.PublicJWK()}})
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/jwks.json", func(w http.ResponseWriter, r *http.Request) { hits.Add(1); _, _ = w.Write(jwks) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/jwks.json", http.StatusFound) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"keys":[],"pad":"` + strings.Repeat("x", MaxJWKSSize) + `"}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(jwks) }))
	defer other.Close()
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/jwks.json", http.StatusFound)
	})
	ctx := context.Background()
	for path, want := range map[string][]finding.Code{
		"/jwks.json": nil, "/moved": nil,
		// an unreadable key source is no verdict on the token (env.key_source)
		"/huge": {finding.EnvKeySource}, "/elsewhere": {finding.EnvKeySource}, "/404": {finding.EnvKeySource},
	} {
		t.Run(path, func(t *testing.T) {
			hits.Store(0)
			cfg := baseConfig()
			cfg.JWKSURL = srv.URL + path
			v := newVerifier(t, cfg)
			tok := sign(t, goodClaims(), k)
			expectOnly(t, v.Verify(ctx, tok, Options{}), want...)
			if want == nil {
				expectOnly(t, v.Verify(ctx, tok, Options{}))
				if hits.Load() != 1 {
					t.Fatalf("JWKS fetched %d times, want once (cached)", hits.Load())
				}
			}
		})
	}
}
