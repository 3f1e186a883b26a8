// Package verify is the reference verifier: it judges one token the way
// Qualifio's secure-token rules say it must be judged, and explains every
// refusal as a finding (package finding) a publisher can act on.
//
// Build a [Verifier] once per configuration with [New] (it loads the key
// files and checks them: short RSA keys, mixed or duplicate-kid key sets and
// short shared secrets are refused up front), then call [Verifier.Verify]
// for every token, from any goroutine:
//
//	v, err := verify.New(ctx, verify.ConfigFromProfile(p))
//	res := v.Verify(ctx, token, verify.Options{CampaignID: "945644", Campaign: divID})
//	if !res.Valid() { … res.Findings … }
//
// Verify works in two layers. The JOSE layer (jose.go) takes every decision
// about algorithms and keys on a header it decoded itself (size cap, compact
// form only, an explicit allow-list, never none/RSA1_5/PBES2, keys chosen by
// kid only and never from the token's jwk/jku/x5u, an asymmetric JWE only
// around a signed JWT), then asks go-jose to verify or decrypt with exactly
// one algorithm and one key. A token refused there stops there. The claims
// layer (claims.go) then applies Qualifio's secure-token rules and the
// profile's participant fields, calling the user-info webservice for an
// access token (userinfo.go).
//
// Results never hold a raw value in their JSON form: claims appear as
// sha256 fingerprints (RedactedClaims), fields by name (FieldNames); the raw
// Claims and Fields are there for the caller that must prefill a form.
package verify

import (
	"net"
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
	Algorithms []string // allowed JWS algorithms (nil = profile.DefaultAlgorithms, plus HS* with a secret)
	// KeyAlgorithms and ContentEncryptions restrict JWE (nil = DefaultKeyAlgorithms,
	// DefaultContentEncryptions); RSA1_5 and PBES2* are refused whatever they say.
	KeyAlgorithms      []string
	ContentEncryptions []string
	Issuer             string
	Audience           string
	CampaignID         string // default expected campaignId ("" = not checked unless Options.CampaignID)
	Mode               string // profile.ModeInline, ModeAccessToken, ModeAny
	FieldsClaim        string // "" = top level
	AccessTokenClaim   string
	Required           []string
	Optional           []string
	MaxLifetime        time.Duration
	Leeway             time.Duration

	// At judges every token's exp, nbf and iat as of this instant instead
	// of now (zero: now), unless Options.At or AtIssued says otherwise: a
	// run over a capture, judged as of when it was made.
	At time.Time
	// KeyID narrows every signing key source to the key with this kid
	// (--kid): for a token without kid checked against a multi-key JWKS.
	KeyID string

	JWKSURL           string
	JWKSFile          string
	PublicKeyFile     string
	SecretFile        string
	DecryptionKeyFile string

	UserInfo profile.UserInfo
	// UserInfoOffline is a replay (run --replay): a user-info webservice
	// out of reach (no URL, unreachable, timeout) is userinfo.not_checked,
	// an info note, not a failure of the page.
	UserInfoOffline bool

	HTTPClient *http.Client // for the JWKS URL and user-info; nil = a default client with timeouts
	// Resolver resolves the JWKS and user-info hosts of the default client
	// (ignored with HTTPClient); nil = the system's resolver. Tests give
	// one that never leaves the process (package dnstest).
	Resolver *net.Resolver
	Now      func() time.Time // nil = time.Now; the claims' clock and the user-info stopwatch
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
	// At judges exp, nbf and iat as of this instant instead of now (a
	// token captured days ago, judged as of its capture); AtIssued as of
	// the token's own iat. The result says which (TimesAsOf).
	At       time.Time
	AtIssued bool

	decodeOnly bool // Inspect: no user-info call
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
	// TimesAsOf says when exp, nbf and iat were judged as of, when that
	// is not the moment of verification (Options.At, Options.AtIssued).
	TimesAsOf string `json:"times_as_of,omitempty"`
	// Unverified marks a result of Inspect: decoded without a key, its
	// signature (or encryption) not checked.
	Unverified bool              `json:"unverified,omitempty"`
	Findings   []finding.Finding `json:"findings"`
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
	cfg         Config
	algs        []string // allowed JWS algorithms
	keyAlgs     []string // allowed JWE key-management algorithms
	contentEncs []string // allowed JWE content encryptions
	pub         keySet   // public keys from public_key_file or jwks_file
	remote      *remoteJWKS
	secrets     keySet // shared secrets (HS*)
	decKeys     keySet // JWE decryption keys
	client      *http.Client
	now         func() time.Time
}
