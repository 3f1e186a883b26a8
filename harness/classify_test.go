package harness

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// A page URL that answers with something that is no page ends broken at
// once (env.page_not_html), with the reason, never after the timeout.
func TestNonPageAnswersAreBroken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// A beacon endpoint mistaken for the contest page (analytics answer 204).
	f.mux.HandleFunc("/collect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
	// A form endpoint that answers 205 to reset the form.
	f.mux.HandleFunc("/contest/reset", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusResetContent) })
	// The CMS's "download this article" export.
	f.mux.HandleFunc("/contest/export", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="grand-jeu-ete.html"`)
		fmt.Fprint(w, tag(div(testDiv), create(testDiv, testHost, "g1")))
	})
	// The contest's rules as a PDF.
	f.mux.HandleFunc("/contest/reglement.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		io.WriteString(w, "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
	})
	// A headless CMS's JSON API for the article instead of the article.
	f.mux.HandleFunc("/wp-json/wp/v2/posts/945", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		fmt.Fprint(w, `{"id":945,"slug":"grand-jeu-ete","content":{"rendered":"<div id=\"qualifio_insert_place_1\"></div>"}}`)
	})
	for _, c := range []struct{ path, want string }{
		{"/collect", "HTTP 204 No Content"},
		{"/contest/reset", "HTTP 205"},
		{"/contest/export", "Content-Disposition: attachment"},
		{"/contest/reglement.pdf", "application/pdf"},
		{"/wp-json/wp/v2/posts/945", "application/json"},
	} {
		t.Run(strings.Trim(strings.ReplaceAll(c.path, "/", "_"), "_"), func(t *testing.T) {
			t.Parallel()
			res, err := runScenario(t, Scenario{Profile: f.profile(f.srv.URL+c.path, 1)})
			wantBroken(t, res, err, finding.EnvPageNotHTML)
			for _, fd := range res.Findings {
				if fd.Code == finding.EnvPageNotHTML && !strings.Contains(fd.Message, c.want) {
					t.Fatalf("message %q does not say %q", fd.Message, c.want)
				}
			}
			if _, ok := timeline.First(res.Timeline, timeline.Timeout, ""); ok {
				t.Fatal("a non-page answer must end the run at once, not at the timeout")
			}
		})
	}
}

// An error page with a body (a CDN's text/plain 503, a framework's 404
// page) answered: it is judged, not broken.
func TestErrorPagesWithABodyAreReachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mux.HandleFunc("/maintenance", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "Service temporarily unavailable. Please try again later.\n")
	})
	res, err := runScenario(t, Scenario{Profile: f.profile(f.srv.URL+"/maintenance", 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatalf("a 503 text/plain page is reachable: %v", err)
	}
	expectCodes(t, res, "kit.missing")
}

// A jwks_url that cannot be read, however it fails, is no verdict
// (env.key_source naming the URL and the error), never a token finding.
func TestKeySourceFailuresAreBroken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mux.HandleFunc("/.well-known/hang.json", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // an upstream that never answers: the JWKS timeout ends it
	})
	f.mux.HandleFunc("/.well-known/login-wall.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><body><form action="/login"><input name="email"></form></body></html>`)
	})
	f.mux.HandleFunc("/.well-known/moved.json", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://auth.example.invalid/.well-known/jwks.json", http.StatusMovedPermanently)
	})
	f.mux.HandleFunc("/.well-known/huge.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"keys":[`+strings.Repeat(" ", 2<<20)+`]}`)
	})
	u := f.page("/jwks-env", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	for name, c := range map[string]struct{ url, says string }{
		"refused":    {"http://127.0.0.1:1/.well-known/jwks.json", "refused"},
		"DNS":        {"http://jwks.qualcert-test.invalid/.well-known/jwks.json", "jwks.qualcert-test.invalid"},
		"hang":       {f.srv.URL + "/.well-known/hang.json", "deadline"},
		"login wall": {f.srv.URL + "/.well-known/login-wall.json", "JWKS"},
		"redirect":   {f.srv.URL + "/.well-known/moved.json", "redirect to another host"},
		"oversized":  {f.srv.URL + "/.well-known/huge.json", "over"},
	} {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			p := f.profile(u, 1)
			p.Token.JWKSFile, p.Token.JWKSURL = "", c.url
			res, err := runScenario(t, Scenario{Profile: p})
			wantBroken(t, res, err, finding.EnvKeySource)
			for _, fd := range res.Findings {
				if strings.HasPrefix(string(fd.Code), "token.") {
					t.Errorf("a key source failure reported as %s", fd.Code)
				}
				if fd.Code == finding.EnvKeySource && (!strings.Contains(fd.Message, c.url) || !strings.Contains(fd.Message, c.says)) {
					t.Errorf("env.key_source says %q: want the URL %s and %q", fd.Message, c.url, c.says)
				}
			}
		})
	}
}
