package kit

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

func testServer(t *testing.T, fault finding.Code) (*Server, *timeline.Recorder) {
	t.Helper()
	secret := t.TempDir() + "/secret"
	if err := writeFile(secret, "0123456789abcdef0123456789abcdef"); err != nil {
		t.Fatal(err)
	}
	p := &profile.Profile{
		Name:      "Demo Media",
		Page:      profile.Page{URL: "http://127.0.0.1:8080/contest"},
		Campaigns: []profile.Campaign{{DivID: "qualifio_insert_place_1", Host: "jeux.example.test", CampaignID: "111"}},
		Token:     profile.Token{Issuer: "iss", SecretFile: secret},
		Fields:    profile.Fields{Required: []string{"email"}},
	}
	if err := p.Complete(); err != nil {
		t.Fatal(err)
	}
	rec := timeline.New()
	return New(Config{Profile: p, Timeline: rec, Fault: fault}), rec
}

// serve calls the server as the reference campaign page does: with the
// scenario's nonce.
func serve(s *Server, method, target, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set(NonceHeader, s.Nonce())
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	return w
}

// A page script that calls the harness's endpoints on the campaign host
// (to fake a prefilled form) is refused: it cannot know the nonce, which
// only the cross-origin campaign page holds.
func TestForgedCampaignCallsAreRefused(t *testing.T) {
	s, rec := testServer(t, "")
	for _, path := range []string{"/__qualcert/event", "/__qualcert/verify"} {
		for _, nonce := range []string{"", "0123456789abcdef0123456789abcdef"} {
			req := httptest.NewRequest("POST", "https://jeux.example.test"+path, strings.NewReader(`{"div":"d","event":"form.prefilled","data":{}}`))
			if nonce != "" {
				req.Header.Set(NonceHeader, nonce)
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != http.StatusForbidden {
				t.Errorf("%s with nonce %q: %d, want 403", path, nonce, w.Code)
			}
		}
	}
	if _, ok := timeline.First(rec.Events(), timeline.FormPrefilled, ""); ok {
		t.Fatal("a forged form.prefilled reached the timeline")
	}
	if n := len(timeline.Find(rec.Events(), timeline.KitError, "")); n != 4 {
		t.Errorf("%d refusals on the timeline, want 4", n)
	}
	// the campaign page carries the nonce the server expects
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "https://jeux.example.test/20/G/v1.cfm?id=G&div=d", nil))
	if !strings.Contains(w.Body.String(), s.Nonce()) {
		t.Fatal("the campaign page does not carry the scenario's nonce")
	}
}

func TestIsLoader(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://files.qualifio.com/kit/qualp.2.min.js":     true,
		"http://files.qualifio.com/kit/qualp.js":            true,
		"https://cdn.qualifioapp.com/kit/qualp.2.min.js":    true,
		"https://files.qualifio.com/other/qualp.2.min.js":   false,
		"https://files.qualifio.com.evil.test/kit/qualp.js": false,
		"https://jeux.example.test/kit/qualp.js":            false,
	} {
		u, _ := url.Parse(raw)
		if got := IsLoader(u); got != want {
			t.Errorf("IsLoader(%s) = %v", raw, got)
		}
	}
}

func TestServesTheKitAndRecordsTheRequest(t *testing.T) {
	s, rec := testServer(t, "")
	w := serve(s, "GET", "https://files.qualifio.com/kit/qualp.2.min.js", "")
	if w.Code != 200 || !strings.Contains(w.Header().Get("Content-Type"), "javascript") || !strings.Contains(w.Body.String(), "_qual_async") {
		t.Fatalf("kit: %d %s", w.Code, w.Header())
	}
	if _, ok := timeline.First(rec.Events(), timeline.KitRequest, ""); !ok {
		t.Fatal("no kit.request event")
	}
	if w := serve(s, "GET", "https://unknown.example.test/x", ""); w.Code != http.StatusNotFound {
		t.Fatalf("a host that is not a campaign host: %d", w.Code)
	}
}

func TestCampaignPageCarriesItsConfig(t *testing.T) {
	s, _ := testServer(t, finding.TokenExpired)
	w := serve(s, "GET", "https://jeux.example.test/20/GUID/v1.cfm?id=GUID&div=qualifio_insert_place_1", "")
	body := w.Body.String()
	for _, want := range []string{`"div":"qualifio_insert_place_1"`, `"fault":"token.expired"`, "You are blocked at the authentication step of the game", "Demo Media", "× Qualifio"} {
		if !strings.Contains(body, want) {
			t.Errorf("campaign page lacks %q", want)
		}
	}
	if w := serve(s, "GET", "https://jeux.example.test/other", ""); w.Code != http.StatusNotFound {
		t.Fatalf("non-campaign path: %d", w.Code)
	}
}

func verifyCall(t *testing.T, s *Server, jwt string) verifyAnswer {
	t.Helper()
	w := serve(s, "POST", "https://jeux.example.test/__qualcert/verify", `{"div":"qualifio_insert_place_1","jwt":`+jwt+`}`)
	var a verifyAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("verify answer %q: %v", w.Body.String(), err)
	}
	return a
}

func TestVerifyEndpointJudgesMissingAndNonStringTokens(t *testing.T) {
	s, rec := testServer(t, "")
	for jwt, code := range map[string]finding.Code{
		`null`:        finding.TokenMissing,
		`""`:          finding.TokenMissing,
		`{"__t":"x"}`: finding.SetMetaDataTokenNotString,
		`42`:          finding.SetMetaDataTokenNotString,
		`"not.a.jwt"`: "",
	} {
		a := verifyCall(t, s, jwt)
		if a.OK {
			t.Fatalf("jwt %s accepted", jwt)
		}
		if code != "" && a.Code != string(code) {
			t.Errorf("jwt %s: code %s, want %s", jwt, a.Code, code)
		}
	}
	evs := timeline.Find(rec.Events(), timeline.TokenVerified, "qualifio_insert_place_1")
	if len(evs) != 5 {
		t.Fatalf("%d token.verified events, want 5", len(evs))
	}
	for _, e := range evs {
		if fs, _ := e.Data["findings"].([]any); len(fs) == 0 {
			t.Errorf("token.verified without its findings: %v", e.Data)
		}
	}
	if w := serve(s, "POST", "https://jeux.example.test/__qualcert/verify", `{`); w.Code != http.StatusBadRequest {
		t.Fatalf("bad body: %d", w.Code)
	}
}

// The kit hands each string token to the Verify function it was given, with
// the div and the iframe's number, and keeps nothing: the verdict goes on
// the timeline.
func TestVerifyIsAFunctionHandedIn(t *testing.T) {
	s, rec := testServer(t, "")
	var got VerifyRequest
	s.cfg.Verify = func(ctx context.Context, req VerifyRequest) *verify.Result {
		got = req
		return &verify.Result{Format: "jws", Findings: []finding.Finding{finding.New(finding.TokenExpired, "expired 2 min ago")}}
	}
	w := serve(s, "POST", "https://jeux.example.test/__qualcert/verify", `{"div":"qualifio_insert_place_1","frame":2,"jwt":"a.b.c"}`)
	var a verifyAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || a.OK || a.Code != string(finding.TokenExpired) {
		t.Fatalf("answer %q (%v)", w.Body.String(), err)
	}
	if got.Div != "qualifio_insert_place_1" || got.Frame != 2 || got.Token != "a.b.c" || got.CampaignID != "111" {
		t.Fatalf("verify request = %+v", got)
	}
	e, ok := timeline.First(rec.Events(), timeline.TokenVerified, "qualifio_insert_place_1")
	if !ok || e.Data["frame"] != 2 || e.Data["fingerprint"] != finding.Fingerprint("a.b.c") {
		t.Fatalf("token.verified = %+v", e)
	}
}

func TestEventEndpointAcceptsOnlyTheVocabulary(t *testing.T) {
	s, rec := testServer(t, finding.TokenExpired)
	if w := serve(s, "POST", "https://jeux.example.test/__qualcert/event", `{"div":"d","event":"campaign.blocked","t":0,"data":{"code":"token.expired","fault":true,"secret":"x"}}`); w.Code != http.StatusNoContent {
		t.Fatalf("event: %d", w.Code)
	}
	if w := serve(s, "POST", "https://jeux.example.test/__qualcert/event", `{"div":"d","event":"anything"}`); w.Code != http.StatusBadRequest {
		t.Fatalf("unknown event: %d", w.Code)
	}
	evs := rec.Events()
	e, ok := timeline.First(evs, timeline.Blocked, "d")
	if !ok || e.Data["secret"] != nil || e.Data["code"] != "token.expired" {
		t.Fatalf("blocked event = %+v", e)
	}
	if _, ok := timeline.First(evs, timeline.FaultInjected, "d"); !ok {
		t.Fatal("an injected fault is on the timeline")
	}
}

func TestMaskAndLabel(t *testing.T) {
	for in, want := range map[string]string{"jane@example.com": "•••@•••", "Jane": "•••", "": "", "Émile": "•••"} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if Label("zip_code") != "Postcode" || Label("loyalty_id") != "Loyalty id" {
		t.Fatalf("labels: %q %q", Label("zip_code"), Label("loyalty_id"))
	}
}

func TestFormFieldsAreMaskedUnlessReveal(t *testing.T) {
	s, _ := testServer(t, "")
	res := &verify.Result{Fields: map[string]string{"email": "jane@example.com", "zip_code": "1000"}, FieldNames: []string{"email", "zip_code"}}
	got := s.fields(res)
	if len(got) != 2 || got[0].Name != "email" || got[0].Value != "•••@•••" || got[1].Label != "Postcode" || got[1].Value != "•••" {
		t.Fatalf("masked fields = %+v", got)
	}
	s.cfg.Reveal = true
	if got := s.fields(res); got[0].Value != "jane@example.com" {
		t.Fatalf("revealed fields = %+v", got)
	}
}
