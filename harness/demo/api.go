// Package demo is the embedded demo publisher, "Demo Media": a small site
// served in-process on 127.0.0.1 with a login, a JWKS endpoint, a user-info
// endpoint and one page per integration variant, good and faulty.
//
// SKELETON: the types below are the agreed API; the implementation is in
// progress (issue 3).
package demo

import (
	"context"
	"errors"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
)

// Variant is one integration the demo serves.
type Variant struct {
	Slug        string         // URL path segment: /v/<slug>
	Title       string         // "JWS with inline data"
	Description string         // what the page does, and what is wrong with it
	Good        bool           // a correct integration: no must-level finding expected
	Expect      []finding.Code // the codes a run must produce, exactly (info-level codes included)
	Tags        []string       // Gherkin tags of the flow it illustrates (@jws, @access-token…)
	LoggedOut   bool           // certify it as a logged-out visitor
	Fault       finding.Code   // certify it with this fault injected into the campaign
}

// Server is a running demo publisher.
type Server struct {
	URL string // http://127.0.0.1:port
}

// Start serves the demo on addr ("127.0.0.1:0" for any free port), with
// fresh keys written to a temporary folder that Close removes.
func Start(ctx context.Context, addr string) (*Server, error) {
	return nil, errors.New("demo: not implemented yet")
}

// Close stops the server and removes its keys.
func (s *Server) Close() error { return nil }

// Variants lists every variant, good ones first.
func (s *Server) Variants() []Variant { return nil }

// Profile returns the profile that certifies variant slug: its page URL, its
// campaigns, the demo's key sources and a logged-in session cookie.
func (s *Server) Profile(slug string) (*profile.Profile, error) {
	return nil, errors.New("demo: not implemented yet")
}
