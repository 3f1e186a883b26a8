// Package demo is the embedded demo publisher, "Demo Media": a small site
// served in-process on 127.0.0.1 with a login, a JWKS endpoint, a user-info
// endpoint and one page per integration variant, good and faulty.
//
// It is what `qualcert run` certifies when given no profile, and what
// `qualcert demo` serves to a person:
//
//	srv, err := demo.Start(ctx, "127.0.0.1:0")
//	defer srv.Close()
//	for _, v := range srv.Variants() {
//		p, _ := srv.Profile(v.Slug) // page URL, session cookie, key sources…
//		// certify p with v.LoggedOut and v.Fault; expect exactly v.Expect
//	}
//
// Each variant page embeds the campaign with the real Qualifio JS tag (the
// loader of files.qualifio.com and createIframe, as in the reference doc) and
// calls setMetaData the way its variant says: on time or late, with a good or
// a broken token, with the right divId or not. The table of variants, and the
// codes each must produce, is the one of harness/kit/PROTOCOL.md.
//
// Keys are generated at Start: an ES256 signing key published in the JWKS at
// /.well-known/jwks.json, an RSA-OAEP-256 key pair "given to Qualifio" and a
// dir/A256GCM shared key. The two decryption keys are written to a private
// temporary folder (for the profiles' token.decryption_key_file), never
// served, and removed by Close.
//
// Profile builds a variant's profile in memory; WriteProfile writes it as a
// YAML file for `qualcert run --profile`. Both carry the server's own session
// cookie and key paths, so they are valid while that server runs.
package demo

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
)

// Variant is one integration the demo serves.
type Variant struct {
	Slug        string         // URL path segment: /v/<slug>
	Title       string         // "JWS with inline data"
	Description string         // what the page does, and what is wrong with it
	Good        bool           // a correct integration: no must- or should-level finding expected
	Expect      []finding.Code // the must- and should-level codes a run must produce, exactly (info-level codes are not part of the match: PROTOCOL.md)
	Tags        []string       // Gherkin tags of the flow it illustrates (@jws, @access-token…)
	LoggedOut   bool           // certify it as a logged-out visitor
	Fault       finding.Code   // certify it with this fault injected into the campaign

	b behaviour // how its page and tokens are built
}

// Server is a running demo publisher.
type Server struct {
	URL string // http://127.0.0.1:port

	srv      *http.Server
	listener net.Listener
	keys     keys
	port     string

	mu            sync.Mutex
	sessions      map[string]session     // session cookie value → session
	accessTokens  map[string]accessGrant // opaque access token → grant
	profileCookie string                 // the session Profile hands out, created at Start

	lateDelay atomic.Int64 // how long /api/token waits for token-late, in ns
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	served    chan error
}

// DefaultLateDelay is how long /api/token makes the token-late variant wait:
// well after the reference campaign's getMetaData (which comes as soon as the
// campaign iframe has loaded).
const DefaultLateDelay = 4 * time.Second

// Start serves the demo on addr ("127.0.0.1:0" for any free port; "" means
// that), with fresh keys written to a temporary folder that Close removes.
// ctx bounds the start-up only: the server runs until Close.
func Start(ctx context.Context, addr string) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("starting the demo publisher: %w", err)
	}
	k, err := newKeys()
	if err != nil {
		return nil, fmt.Errorf("starting the demo publisher: %w", err)
	}
	if err := ctx.Err(); err != nil {
		k.remove()
		return nil, fmt.Errorf("starting the demo publisher: %w", err)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		k.remove()
		return nil, fmt.Errorf("starting the demo publisher: listening on %s: %w", addr, err)
	}
	host, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		ln.Close()
		k.remove()
		return nil, fmt.Errorf("starting the demo publisher: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1" // listening on every interface: show the loopback URL
	}
	cookie, err := randomID()
	if err != nil {
		ln.Close()
		k.remove()
		return nil, fmt.Errorf("starting the demo publisher: %w", err)
	}
	s := &Server{
		URL:           "http://" + net.JoinHostPort(host, port),
		listener:      ln,
		keys:          k,
		port:          port,
		sessions:      map[string]session{cookie: {email: alice.Email, created: time.Now()}},
		accessTokens:  map[string]accessGrant{},
		profileCookie: cookie,
		done:          make(chan struct{}),
		served:        make(chan error, 1),
	}
	s.lateDelay.Store(int64(DefaultLateDelay))
	s.srv = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	go func() { s.served <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server and removes its keys. It is safe to call twice.
func (s *Server) Close() error {
	if s == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		close(s.done) // releases the token-late handlers still waiting
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := s.srv.Shutdown(ctx)
		if err != nil {
			err = s.srv.Close()
		}
		if serveErr := <-s.served; serveErr != nil && serveErr != http.ErrServerClosed && err == nil {
			err = serveErr
		}
		if rmErr := s.keys.remove(); rmErr != nil && err == nil {
			err = rmErr
		}
		if err != nil {
			s.closeErr = fmt.Errorf("stopping the demo publisher: %w", err)
		}
	})
	return s.closeErr
}

// Variants lists every variant, good ones first.
func (s *Server) Variants() []Variant {
	out := slices.Clone(variants)
	slices.SortStableFunc(out, func(a, b Variant) int {
		switch {
		case a.Good == b.Good:
			return 0
		case a.Good:
			return -1
		default:
			return 1
		}
	})
	for i := range out {
		out[i].Expect = slices.Clone(out[i].Expect)
		out[i].Tags = slices.Clone(out[i].Tags)
	}
	return out
}

// Profile returns the profile that certifies variant slug: its page URL, its
// campaigns, the demo's key sources and a logged-in session cookie.
//
// A LoggedOut variant's profile has the session too. Being logged out is a
// condition of the scenario that certifies it (Scenario.LoggedOut leaves
// the profile's cookies and login out), not of the publisher: `qualcert run
// --profile` runs the suite's logged-in scenarios with the profile's
// session and its logged-out scenario without. A profile without a session
// would run the logged-in scenarios as a visitor who is not logged in, to
// whom the page rightly gives an empty token, and fail them with
// token.missing (CONTRACT §4: an empty token is a must), where the variant
// promises a warning (page.logged_out_blocked) and the verdict passed.
func (s *Server) Profile(slug string) (*profile.Profile, error) {
	v, ok := variantBySlug(slug)
	if !ok {
		return nil, fmt.Errorf("demo profile: no variant %q (known: %s)", slug, strings.Join(slugs(), ", "))
	}
	p := &profile.Profile{
		Name: "Demo Media — " + v.Title,
		Page: profile.Page{URL: s.URL + "/v/" + v.Slug},
	}
	s.mu.Lock()
	s.sessions[s.profileCookie] = session{email: alice.Email, created: time.Now()} // back, should someone have logged it out
	s.mu.Unlock()
	p.Page.Cookies = []profile.Cookie{{Name: sessionCookie, Value: s.profileCookie, Domain: "127.0.0.1", Path: "/"}}
	for _, c := range v.campaigns() {
		p.Campaigns = append(p.Campaigns, profile.Campaign{DivID: c.DivID, Host: c.Host, CampaignID: c.CampaignID})
	}
	form := "form"
	p.Token = profile.Token{
		Mode:             profile.ModeInline,
		Issuer:           issuer,
		Algorithms:       []string{"ES256"},
		JWKSURL:          s.URL + jwksPath,
		FieldsClaim:      &form,
		AccessTokenClaim: profile.DefaultAccessTokenClaim,
	}
	switch v.b.mint {
	case mintJWENested, mintJWEUnsigned:
		p.Token.DecryptionKeyFile = s.keys.encFile
	case mintJWEDir:
		p.Token.DecryptionKeyFile = s.keys.dirFile
	}
	if v.accessToken() {
		p.Token.Mode = profile.ModeAccessToken
		p.UserInfo = profile.UserInfo{URL: s.URL + userInfoPath, Method: "GET"}
	}
	p.Fields = profile.Fields{Required: []string{"email", "firstname", "lastname"}, Optional: []string{"birthday"}}
	// The contract's default timeout: waits are event-driven, so a good
	// page ends as soon as it settles; the bound only matters on a loaded
	// machine, where it keeps the verdict.
	p.Timing = profile.Timing{GetMetaDataDelay: 0, Timeout: profile.Duration(profile.DefaultScenarioTimeout)}
	if err := p.Complete(); err != nil {
		return nil, fmt.Errorf("demo profile %s: %w", slug, err)
	}
	return p, nil
}

// Variant returns the variant with that slug.
func (s *Server) Variant(slug string) (Variant, bool) {
	v, ok := variantBySlug(slug)
	if ok {
		v.Expect = slices.Clone(v.Expect)
		v.Tags = slices.Clone(v.Tags)
	}
	return v, ok
}

// KeyDir is the private temporary folder holding the decryption keys.
func (s *Server) KeyDir() string { return s.keys.dirPath }

func slugs() []string {
	out := make([]string, len(variants))
	for i, v := range variants {
		out[i] = v.Slug
	}
	return out
}

// currentLateDelay is how long /api/token makes token-late wait.
func (s *Server) currentLateDelay() time.Duration { return time.Duration(s.lateDelay.Load()) }
