package verify

import (
	"context"
	"encoding/base64"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
)

// IsJWE reports whether token has the five parts of a compact JWE, which
// cannot be read without its decryption key.
func IsJWE(token string) bool { return strings.Count(token, ".") == 4 }

// Inspect decodes token without a key, for a support engineer who must see
// its header and claims (kid and iss, to find the key; the times) before
// anything else. Nothing is authenticated: the result is Unverified. What
// can be judged without a key is judged as Verify would (a malformed token,
// a forbidden alg, a repeated member name, the claims' rules and times as of
// opt.At), so a must finding still means invalid whatever the key; no
// user-info call is made. A JWE is left undecoded (its claims need the
// decryption key): only its header is returned.
func (v *Verifier) Inspect(ctx context.Context, token string, opt Options) *Result {
	r := &Result{Findings: []finding.Finding{}, Unverified: true}
	add := func(f finding.Finding) {
		f.Campaign = opt.Campaign
		r.Findings = append(r.Findings, f)
	}
	defer finding.Sort(r.Findings)
	if token == "" {
		add(finding.New(finding.TokenMissing, "the token is empty"))
		return r
	}
	r.Fingerprint = fingerprint(token)
	if len(token) > MaxTokenSize {
		add(finding.New(finding.TokenTooLarge, "the token is %d bytes, over the %d-byte cap", len(token), MaxTokenSize))
		return r
	}
	if token[0] == '{' {
		add(*refusal(finding.TokenMalformed, "the token is in JSON serialization; only the compact form (dot-separated base64url) is accepted"))
		return r
	}
	dots, bad := scanCompact(token)
	if bad != nil {
		add(*bad)
		return r
	}
	if dots != 2 && dots != 4 {
		add(*refusal(finding.TokenMalformed, "the token has %d parts; a compact JWS has 3 and a JWE 5", dots+1))
		return r
	}
	head, rest, _ := strings.Cut(token, ".")
	r.Format = "jws"
	if dots == 4 {
		r.Format = "jwe"
	}
	h, alg, bad := headerAlg(head)
	r.Header = h
	if bad == nil {
		if why := forbiddenAlg(alg); why != "" {
			bad = refusal(finding.TokenAlgForbidden, "%s", why)
		} else {
			bad = checkCommonHeader(h)
		}
	}
	if bad != nil {
		add(*bad)
		return r
	}
	if dots == 4 {
		return r
	}
	seg, _, _ := strings.Cut(rest, ".")
	payload, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		add(*refusal(finding.TokenMalformed, "the payload is not base64url: %v", err))
		return r
	}
	opt.decodeOnly = true
	v.judgeClaims(ctx, r, &opened{format: "jws", header: h, payload: payload}, opt, add)
	return r
}
