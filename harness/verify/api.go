// Package verify is the reference verifier: it judges one token the way
// Qualifio's secure-token rules say it must be judged, and explains every
// refusal as a finding (package finding) a publisher can act on.
//
// SKELETON: the types below are the agreed API; the implementation is in
// progress (issue 2).
package verify

import (
	"context"
	"net/http"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// MaxTokenSize is the 16 KiB cap, checked before any parsing.
const MaxTokenSize = 16 << 10

// Config is everything the verifier needs; build it from a profile with
// ConfigFromProfile or field by field (the CLI's flags).
type Config struct {
	Algorithms       []string // allowed JWS algorithms
	Issuer           string
	Audience         string
	CampaignID       string // default expected campaignId ("" = not checked unless Options.CampaignID)
	Mode             string // profile.ModeInline, ModeAccessToken, ModeAny
	FieldsClaim      string // "" = top level
	AccessTokenClaim string
	Required         []string
	Optional         []string
	MaxLifetime      time.Duration
	Leeway           time.Duration

	JWKSURL           string
	JWKSFile          string
	PublicKeyFile     string
	SecretFile        string
	DecryptionKeyFile string

	UserInfo profile.UserInfo

	HTTPClient *http.Client     // for the JWKS URL and user-info; nil = a default client with timeouts
	Now        func() time.Time // nil = time.Now
}

// ConfigFromProfile maps a loaded profile onto a Config.
func ConfigFromProfile(p *profile.Profile) Config {
	t := p.Token
	return Config{
		Algorithms: t.Algorithms, Issuer: t.Issuer, Audience: t.Audience, Mode: t.Mode,
		FieldsClaim: t.FieldsClaimName(), AccessTokenClaim: t.AccessTokenClaim,
		Required: p.Fields.Required, Optional: p.Fields.Optional,
		MaxLifetime: t.MaxLifetime.D(), Leeway: t.Leeway.D(),
		JWKSURL: t.JWKSURL, JWKSFile: t.JWKSFile, PublicKeyFile: t.PublicKeyFile,
		SecretFile: t.SecretFile, DecryptionKeyFile: t.DecryptionKeyFile,
		UserInfo: p.UserInfo,
	}
}

// Options are per-token expectations.
type Options struct {
	CampaignID string             // expected campaignId for this token (overrides Config.CampaignID)
	Campaign   string             // div id, set on findings and timeline events
	Timeline   *timeline.Recorder // when set, the user-info call is recorded on it
}

// Result is the verdict on one token.
type Result struct {
	Format         string            `json:"format"` // "jws", "jwe" (direct, symmetric), "nested" (JWE over JWS), "" when unreadable
	Header         map[string]any    `json:"header,omitempty"`
	InnerHeader    map[string]any    `json:"inner_header,omitempty"`
	Claims         map[string]any    `json:"-"`      // raw claims: only shown with --reveal
	RedactedClaims map[string]any    `json:"claims"` // values replaced by sha256: fingerprints (structure and numeric dates kept)
	Fingerprint    string            `json:"fingerprint"`
	Mode           string            `json:"mode,omitempty"` // "inline" or "access_token"
	Fields         map[string]string `json:"-"`              // participant values, to prefill the form: secret
	FieldNames     []string          `json:"fields,omitempty"`
	UserInfo       *UserInfoCall     `json:"userinfo,omitempty"`
	Findings       []finding.Finding `json:"findings"`
}

// UserInfoCall describes the user-info request made for an access token.
type UserInfoCall struct {
	URL        string  `json:"url"`
	Method     string  `json:"method"`
	Status     int     `json:"status,omitempty"`
	DurationMs float64 `json:"duration_ms"`
	Error      string  `json:"error,omitempty"`
}

// Valid reports whether no finding is at level must.
func (r *Result) Valid() bool { return !finding.HasMust(r.Findings) }

// Verifier checks tokens against one configuration; safe for concurrent use.
type Verifier struct {
	cfg Config
}

// New loads the keys of cfg (a JWKS URL is fetched on first use and cached
// for the verifier's lifetime) and returns a verifier.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	return &Verifier{cfg: cfg}, nil
}

// Verify judges token. It never returns nil.
func (v *Verifier) Verify(ctx context.Context, token string, opt Options) *Result {
	return &Result{Fingerprint: finding.Fingerprint(token), Findings: []finding.Finding{finding.New(finding.TokenMalformed, "verifier not implemented yet")}}
}
