package verify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
)

// DefaultHTTPTimeout bounds every request of the default HTTP client.
const DefaultHTTPTimeout = 10 * time.Second

// New loads the keys of cfg (a JWKS URL is fetched on first use and cached
// for the verifier's lifetime) and returns a verifier. It fails on a key file
// that cannot be read or holds a key no token should be accepted under, and
// on an algorithm list that names a forbidden or unknown algorithm.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	v := &Verifier{cfg: cfg, client: cfg.HTTPClient, now: cfg.Now}
	if v.client == nil {
		v.client = defaultClient(cfg.Resolver)
	}
	if v.now == nil {
		v.now = time.Now
	}
	var err error
	if cfg.PublicKeyFile != "" {
		if v.pub, err = loadPublicKeyFile(cfg.PublicKeyFile); err != nil {
			return nil, err
		}
	}
	if cfg.JWKSFile != "" {
		data, err := readLimited(cfg.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("reading JWKS: %w", err)
		}
		ks, err := parseJWKS(data, "jwks_file", false)
		if err != nil {
			return nil, fmt.Errorf("reading JWKS %s: %w", cfg.JWKSFile, err)
		}
		v.pub = append(v.pub, ks...)
	}
	if cfg.JWKSURL != "" {
		if cfg.JWKSFile != "" || cfg.PublicKeyFile != "" {
			return nil, fmt.Errorf("give one public key source: jwks_url, jwks_file or public_key_file")
		}
		v.remote = &remoteJWKS{url: cfg.JWKSURL, client: v.client}
	}
	if cfg.SecretFile != "" {
		if v.secrets, err = loadSecretFile(cfg.SecretFile); err != nil {
			return nil, err
		}
	}
	if cfg.DecryptionKeyFile != "" {
		if v.decKeys, err = loadDecryptionKeyFile(cfg.DecryptionKeyFile); err != nil {
			return nil, err
		}
	}

	v.algs = cfg.Algorithms
	if len(v.algs) == 0 {
		if v.pub != nil || v.remote != nil {
			v.algs = append(v.algs, profile.DefaultAlgorithms...)
		}
		if v.secrets != nil {
			v.algs = append(v.algs, profile.DefaultHMAC...)
		}
	}
	for _, a := range v.algs {
		if why := forbiddenAlg(a); why != "" {
			return nil, fmt.Errorf("algorithm %s is never accepted: %s", a, why)
		}
		if !slices.Contains(jwsAlgs, a) {
			return nil, fmt.Errorf("algorithm %q is not a JWS algorithm qualcert checks (%s)", a, strings.Join(jwsAlgs, ", "))
		}
		if strings.HasPrefix(a, "HS") && v.secrets == nil {
			return nil, fmt.Errorf("algorithm %s needs a shared secret (secret_file); with public keys only it would invite key-confusion forgeries", a)
		}
	}
	v.keyAlgs, err = checkedList(cfg.KeyAlgorithms, DefaultKeyAlgorithms, "JWE key algorithm")
	if err != nil {
		return nil, err
	}
	v.contentEncs, err = checkedList(cfg.ContentEncryptions, DefaultContentEncryptions, "JWE content encryption")
	if err != nil {
		return nil, err
	}
	return v, nil
}

func checkedList(given, defaults []string, what string) ([]string, error) {
	if len(given) == 0 {
		return defaults, nil
	}
	for _, a := range given {
		if why := forbiddenAlg(a); why != "" {
			return nil, fmt.Errorf("%s %s is never accepted: %s", what, a, why)
		}
		if !slices.Contains(defaults, a) {
			return nil, fmt.Errorf("%s %q is not supported (%s)", what, a, strings.Join(defaults, ", "))
		}
	}
	return given, nil
}

// KeySourceError is a key source that could not be read (a JWKS URL that
// does not resolve, hangs, answers an error, is oversized or redirects to
// another host): an environment problem, not a verdict on the token.
type KeySourceError struct {
	URL string
	Err error
}

func (e *KeySourceError) Error() string { return fmt.Sprintf("key source %s: %v", e.URL, e.Err) }
func (e *KeySourceError) Unwrap() error { return e.Err }

// Prefetch reads the remote key source now (a no-op without one), so that
// a run that cannot reach it stops before any page is judged.
func (v *Verifier) Prefetch(ctx context.Context) error {
	if v.remote == nil {
		return nil
	}
	_, err := v.remote.get(ctx)
	return err
}

// HasKeySource reports whether the verifier can authenticate any token.
func (v *Verifier) HasKeySource() bool {
	return v.pub != nil || v.remote != nil || v.secrets != nil || v.decKeys != nil
}

// signingKeys returns the keys that may check a JWS with alg.
func (v *Verifier) signingKeys(ctx context.Context, alg string) (keySet, error) {
	if strings.HasPrefix(alg, "HS") {
		if len(v.secrets) == 0 {
			return nil, fmt.Errorf("alg %s needs a shared secret and none is configured", alg)
		}
		return v.secrets, nil
	}
	if v.remote != nil {
		return v.remote.get(ctx)
	}
	if len(v.pub) == 0 {
		return nil, fmt.Errorf("alg %s needs a public key (public_key_file, jwks_file or jwks_url) and none is configured", alg)
	}
	return v.pub, nil
}

// Verify judges token. It never returns nil.
func (v *Verifier) Verify(ctx context.Context, token string, opt Options) *Result {
	r := &Result{Findings: []finding.Finding{}}
	add := func(f finding.Finding) {
		f.Campaign = opt.Campaign
		r.Findings = append(r.Findings, f)
	}
	if token == "" {
		add(finding.New(finding.TokenMissing, "the token is empty"))
		return r
	}
	r.Fingerprint = fingerprint(token)
	finding.NoteSecret(token)
	if len(token) > MaxTokenSize {
		add(finding.New(finding.TokenTooLarge, "the token is %d bytes, over the %d-byte cap", len(token), MaxTokenSize))
		return r
	}
	op, bad := v.openToken(ctx, token)
	if op != nil {
		r.Format, r.Header, r.InnerHeader = op.format, op.header, op.innerHeader
	}
	if bad != nil {
		add(*bad)
		return r
	}
	for _, f := range op.weak {
		add(f)
	}
	v.judgeClaims(ctx, r, op, opt, add)
	noteSecrets(r)
	finding.Sort(r.Findings)
	return r
}

// noteSecrets records the participant values of a verified token (every
// claim value but the public ones, and the fields, user-info's included)
// with finding.NoteSecret, so that every output of the run scrubs them.
func noteSecrets(r *Result) {
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			finding.NoteSecret(x)
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for k, v := range r.Claims {
		if !finding.PublicClaim(k, v) {
			walk(v)
		}
	}
	for _, v := range r.Fields {
		finding.NoteSecret(v)
	}
}

// defaultClient is the HTTP client of a verifier given none: Go's default
// transport (proxy from the environment, keep-alives, HTTP/2), every
// request bounded by DefaultHTTPTimeout, names resolved by r (nil: the
// system's resolver).
func defaultClient(r *net.Resolver) *http.Client {
	c := &http.Client{Timeout: DefaultHTTPTimeout}
	if r != nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: r}
		t.DialContext = d.DialContext
		c.Transport = t
	}
	return c
}
