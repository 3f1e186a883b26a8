package demo

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Paths of the demo's endpoints.
const (
	jwksPath     = "/.well-known/jwks.json"
	userInfoPath = "/api/userinfo"
	tokenPath    = "/api/token"
	pixelPath    = "/pixel.gif"
)

// sessionCookie is the name of the demo's session cookie.
const sessionCookie = "dm_session"

// sessionLifetime is how long a login lasts (the profile's session lasts as
// long as the server).
const sessionLifetime = 12 * time.Hour

// session is a logged-in browser.
type session struct {
	email   string
	created time.Time
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleIndex)
	mux.HandleFunc("GET /v/{slug}", s.handleVariant)
	mux.HandleFunc("GET /login", s.handleLoginForm)
	mux.HandleFunc("POST /login", s.handleLogin)
	mux.HandleFunc("POST /logout", s.handleLogout)
	mux.HandleFunc("GET /account", s.handleAccount)
	mux.HandleFunc("GET "+jwksPath, s.handleJWKS)
	mux.HandleFunc("GET "+userInfoPath, s.handleUserInfo)
	mux.HandleFunc("POST "+userInfoPath, s.handleUserInfo)
	mux.HandleFunc("GET "+tokenPath, s.handleToken)
	mux.HandleFunc("GET "+pixelPath, handlePixel)
	mux.HandleFunc("GET /static/site.css", handleCSS)
	return securityHeaders(mux)
}

// securityHeaders sets the headers every page of a careful publisher sends.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

// participantOf returns the participant of the request's session.
func (s *Server) participantOf(r *http.Request) (participant, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return participant{}, false
	}
	s.mu.Lock()
	sess, ok := s.sessions[c.Value]
	s.mu.Unlock()
	if !ok || sess.email != alice.Email || (c.Value != s.profileCookie && time.Since(sess.created) > sessionLifetime) {
		return participant{}, false
	}
	return alice, true
}

func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "login", loginData{Next: safeNext(r.URL.Query().Get("next")), Email: alice.Email, Password: alice.Password})
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "reading the login form: "+err.Error(), http.StatusBadRequest)
		return
	}
	email := strings.TrimSpace(strings.ToLower(r.PostForm.Get("email")))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	emailOK := subtle.ConstantTimeCompare([]byte(email), []byte(alice.Email)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(password), []byte(alice.Password)) == 1
	if !emailOK || !passOK {
		s.render(w, r, http.StatusUnauthorized, "login", loginData{Next: next, Email: alice.Email, Password: alice.Password, Error: "Unknown e-mail address or wrong password.", Typed: email})
		return
	}
	id, err := randomID()
	if err != nil {
		http.Error(w, "opening a session failed", http.StatusInternalServerError)
		return
	}
	now := time.Now()
	s.mu.Lock()
	for k, old := range s.sessions {
		if k != s.profileCookie && now.Sub(old.created) > sessionLifetime {
			delete(s.sessions, k)
		}
	}
	s.sessions[id] = session{email: alice.Email, created: now}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.mu.Lock()
		delete(s.sessions, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) handleAccount(w http.ResponseWriter, r *http.Request) {
	p, ok := s.participantOf(r)
	if !ok {
		http.Redirect(w, r, "/login?next="+url.QueryEscape("/account"), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "account", p)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/"
	}
	return next
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if err := json.NewEncoder(w).Encode(s.keys.jwks()); err != nil {
		log.Printf("demo: writing the JWKS: %v", err)
	}
}

// handleUserInfo answers the participant's fields for an access token the
// demo issued: 401 without a valid bearer, 500 for the userinfo-failing
// variant's tokens.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	at = strings.TrimSpace(at)
	s.mu.Lock()
	g, known := s.accessTokens[at]
	s.mu.Unlock()
	if !ok || at == "" || !known || time.Now().After(g.expires) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="demo-media", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "a valid access token issued by Demo Media is required"})
		return
	}
	if g.failing {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": "the member directory is unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, alice.fields())
}

// handleToken mints a fresh token for the session's participant:
// /api/token?variant=<slug>&div=<divId>. Good pages call it to re-push after
// a campaign error; token-late calls it, and it answers late.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	p, ok := s.participantOf(r)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "login_required"})
		return
	}
	v, ok := variantBySlug(r.URL.Query().Get("variant"))
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown variant"})
		return
	}
	div := r.URL.Query().Get("div")
	var camp *campaign
	for _, c := range v.campaigns() {
		if c.DivID == div {
			camp = &c
		}
	}
	if camp == nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unknown div"})
		return
	}
	if v.b.push == pushLate {
		t := time.NewTimer(s.currentLateDelay())
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	tok, err := s.mint(v, *camp, p, time.Now())
	if err != nil {
		log.Printf("demo: %v", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "minting failed"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": tok})
}

// gif1x1 is a transparent 1×1 GIF.
var gif1x1 = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// handlePixel is the "third-party" analytics pixel of token-leaked. It
// records nothing: the leak is the request itself.
func handlePixel(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(gif1x1)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		log.Printf("demo: writing a response: %v", err)
	}
}

func handleCSS(w http.ResponseWriter, r *http.Request) {
	css, err := assets.ReadFile("static/site.css")
	if err != nil {
		http.Error(w, "no stylesheet", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(css)
}
