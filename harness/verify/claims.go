package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/mail"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
)

// The claims layer: Qualifio's secure-token rules on an authenticated
// payload. go-jose's ValidateWithLeeway skips absent claims, so requiring
// sub, campaignId, iss and exp is done here, on the raw claims map, with the
// same boundary semantics as go-jose (a claim exactly at the leeway edge is
// still valid).

// registeredClaims are never participant fields, even at the top level.
var registeredClaims = map[string]bool{
	"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true,
	"campaignId": true, "optin": true, "custom": true, "limit": true, "gift": true,
}

func (v *Verifier) judgeClaims(ctx context.Context, r *Result, op *opened, opt Options, add func(finding.Finding)) {
	claims, err := decodeObject(op.payload)
	if ptr, dup := isDuplicateName(err); dup {
		add(finding.New(finding.TokenDuplicateMember, "the claims give %s more than once: verifiers disagree on which one counts, so the token must be refused (RFC 7519 §4)", ptr))
		return
	}
	if err != nil || claims == nil {
		add(finding.New(finding.TokenMalformed, "the payload is not a JSON object of claims"))
		return
	}
	r.Claims = claims
	r.RedactedClaims = redactClaims(claims)

	// typ of the header that carries the claims (the inner one when nested).
	h := op.header
	if op.innerHeader != nil {
		h = op.innerHeader
	}
	if typ, ok := h["typ"]; ok {
		s, _ := typ.(string)
		if !isMediaType(s, "jwt") {
			add(finding.New(finding.TokenTypInvalid, "typ is %q, not JWT", fmt.Sprint(typ)))
		}
	}

	if s, ok := claims["sub"].(string); !ok || strings.TrimSpace(s) == "" {
		if _, present := claims["sub"]; present {
			add(finding.New(finding.TokenSubMissing, "sub is present but not a non-empty string"))
		} else {
			add(finding.New(finding.TokenSubMissing, "the token has no sub"))
		}
	}

	expected := opt.CampaignID
	if expected == "" {
		expected = v.cfg.CampaignID
	}
	switch cid, present := claims["campaignId"]; {
	case !present:
		add(finding.New(finding.TokenCampaignIDMissing, "the token has no campaignId"))
	default:
		s, ok := cid.(string)
		switch {
		case !ok:
			add(finding.New(finding.TokenCampaignIDNotString, "campaignId is a JSON %s, not a string", jsonKind(cid)))
		case expected != "" && s != expected:
			add(finding.New(finding.TokenCampaignMismatch, "campaignId is %q, the campaign being played is %q", s, expected))
		}
	}

	if v.cfg.Issuer != "" {
		switch iss, present := claims["iss"]; {
		case !present:
			add(finding.New(finding.TokenIssMismatch, "the token has no iss; expected %q", v.cfg.Issuer))
		case iss != v.cfg.Issuer:
			add(finding.New(finding.TokenIssMismatch, "iss is %s, expected %q", describeValue(iss), v.cfg.Issuer))
		}
	}
	if v.cfg.Audience != "" && !audienceHas(claims["aud"], v.cfg.Audience) {
		if _, present := claims["aud"]; !present {
			add(finding.New(finding.TokenAudMismatch, "the token has no aud; expected %q", v.cfg.Audience))
		} else {
			add(finding.New(finding.TokenAudMismatch, "aud %s does not name %q", describeValue(claims["aud"]), v.cfg.Audience))
		}
	}

	now := v.now()
	switch {
	case opt.AtIssued:
		if iat, ok := claims["iat"].(float64); ok && !math.IsNaN(iat) && !math.IsInf(iat, 0) && math.Abs(iat) < 1e11 {
			now = time.Unix(0, int64(iat*1e9)).UTC()
			r.TimesAsOf = now.Format(time.RFC3339) + " (the token's iat)"
		} else {
			r.TimesAsOf = now.UTC().Format(time.RFC3339) + " (now: the token has no usable iat)"
		}
	case !opt.At.IsZero():
		now = opt.At
		r.TimesAsOf = now.UTC().Format(time.RFC3339)
	case !v.cfg.At.IsZero():
		now = v.cfg.At
		r.TimesAsOf = now.UTC().Format(time.RFC3339)
	}
	v.judgeTimes(claims, now, add)
	v.judgeMode(ctx, r, claims, opt, add)
}

// judgeTimes checks exp, nbf and iat against at and the leeway.
func (v *Verifier) judgeTimes(claims map[string]any, at time.Time, add func(finding.Finding)) {
	now := float64(at.UnixNano()) / 1e9
	leeway := v.cfg.Leeway.Seconds()
	numeric := func(name string) (float64, bool) {
		raw, present := claims[name]
		if !present {
			return 0, false
		}
		n, ok := raw.(float64)
		if !ok || math.IsNaN(n) || math.IsInf(n, 0) {
			add(finding.New(finding.TokenMalformed, "%s is a JSON %s; it must be a number of seconds since the epoch", name, jsonKind(raw)))
			return 0, false
		}
		return n, true
	}
	exp, hasExp := numeric("exp")
	nbf, hasNbf := numeric("nbf")
	iat, hasIat := numeric("iat")
	if hasIat && iat > 1e11 {
		add(finding.New(finding.TokenIATFuture, "iat is %.0f, which looks like milliseconds since the epoch; use seconds", iat))
		hasIat = false
	}
	if !hasExp {
		if _, present := claims["exp"]; !present {
			add(finding.New(finding.TokenExpMissing, "the token has no exp"))
		}
	} else if now-leeway > exp {
		add(finding.New(finding.TokenExpired, "the token expired %s ago (leeway %s)", secs(now-exp), v.cfg.Leeway))
	}
	if hasNbf && now+leeway < nbf {
		add(finding.New(finding.TokenNotYetValid, "nbf is %s in the future (leeway %s)", secs(nbf-now), v.cfg.Leeway))
	}
	if hasIat && now+leeway < iat {
		add(finding.New(finding.TokenIATFuture, "iat is %s in the future (leeway %s)", secs(iat-now), v.cfg.Leeway))
	}
	if hasExp && hasIat && exp < iat {
		add(finding.New(finding.TokenExpBeforeIAT, "exp is %s before iat", secs(iat-exp)))
	}
	if hasExp && v.cfg.MaxLifetime > 0 {
		start, from := now, "now"
		switch {
		case hasIat:
			start, from = iat, "iat"
		case hasNbf:
			start, from = nbf, "nbf"
		}
		if life := exp - start; life > v.cfg.MaxLifetime.Seconds() {
			add(finding.New(finding.TokenLifetimeTooLong, "the token lives %s from %s to exp, over the %s maximum", secs(life), from, v.cfg.MaxLifetime))
		}
	}
}

func secs(s float64) string {
	return (time.Duration(math.Round(s)) * time.Second).String()
}

func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, x := range a {
			if x == want {
				return true
			}
		}
	}
	return false
}

// describeValue prints a claim that is not participant data (iss, aud).
func describeValue(v any) string {
	b, err := json.Marshal(v)
	if err != nil || len(b) > 80 {
		return "a JSON " + jsonKind(v)
	}
	return string(b)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// judgeMode finds the participant data: inline fields, or an access token
// exchanged with the user-info webservice.
func (v *Verifier) judgeMode(ctx context.Context, r *Result, claims map[string]any, opt Options, add func(finding.Finding)) {
	mode := v.cfg.Mode
	if mode == "" {
		mode = profile.ModeAny
	}
	fields, hasInline := v.inlineFields(claims)
	accessToken, hasAccess := "", false
	if v.cfg.AccessTokenClaim != "" {
		accessToken, hasAccess = claims[v.cfg.AccessTokenClaim].(string)
		hasAccess = hasAccess && accessToken != ""
	}
	where := "under " + strconv.Quote(v.cfg.FieldsClaim)
	if v.cfg.FieldsClaim == "" {
		where = "at the top level"
	}
	switch {
	case mode == profile.ModeInline && !hasInline:
		add(finding.New(finding.TokenModeAmbiguous, "the profile expects participant fields %s, and the token has none", where))
		return
	case mode == profile.ModeAccessToken && !hasAccess:
		add(finding.New(finding.TokenModeAmbiguous, "the profile expects an access token in claim %q, and the token has none", v.cfg.AccessTokenClaim))
		return
	case mode == profile.ModeAny && !hasInline && !hasAccess:
		add(finding.New(finding.TokenModeAmbiguous, "the token carries neither participant fields %s nor an access token in claim %q", where, v.cfg.AccessTokenClaim))
		return
	}
	if hasInline && mode != profile.ModeAccessToken {
		r.Mode = profile.ModeInline
		v.judgeFields(r, fields, add)
		return
	}
	r.Mode = profile.ModeAccessToken
	if opt.decodeOnly {
		return // an unverified token's access token is not sent anywhere
	}
	fields, ok := v.callUserInfo(ctx, r, accessToken, opt, add)
	if ok {
		v.judgeFields(r, fields, add)
	}
}

// inlineFields returns the object holding participant fields, if any.
func (v *Verifier) inlineFields(claims map[string]any) (map[string]any, bool) {
	if v.cfg.FieldsClaim != "" {
		m, ok := claims[v.cfg.FieldsClaim].(map[string]any)
		return m, ok
	}
	m := map[string]any{}
	for k, val := range claims {
		if !registeredClaims[k] && k != v.cfg.AccessTokenClaim {
			m[k] = val
		}
	}
	for _, name := range v.cfg.Required {
		if _, ok := m[name]; ok {
			return m, true
		}
	}
	for _, name := range v.cfg.Optional {
		if _, ok := m[name]; ok {
			return m, true
		}
	}
	return m, false
}

// judgeFields checks required, optional and unknown fields and keeps the
// values for prefilling.
func (v *Verifier) judgeFields(r *Result, fields map[string]any, add func(finding.Finding)) {
	r.Fields = map[string]string{}
	for _, name := range v.cfg.Required {
		if _, ok := fields[name]; !ok {
			add(finding.New(finding.PIIFieldMissing, "required field %q is missing", name))
		}
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	var unknown []string
	kept := names[:0] // FieldNames: the valid names, filtered in place (still sorted)
	for _, name := range names {
		known := slices.Contains(v.cfg.Required, name) || slices.Contains(v.cfg.Optional, name)
		if !known && (len(v.cfg.Required) > 0 || len(v.cfg.Optional) > 0) {
			unknown = append(unknown, name)
		}
		val, problem := fieldValue(name, fields[name])
		if problem != "" {
			add(finding.New(finding.PIIFieldInvalid, "field %q %s", name, problem))
			continue
		}
		r.Fields[name] = val
		kept = append(kept, name)
	}
	if len(kept) > 0 {
		r.FieldNames = kept
	}
	for _, name := range unknown {
		add(finding.New(finding.PIIUnknownField, "field %q is not in the profile's required or optional fields", name))
	}
}

// fieldValue checks one participant value and returns it as text. The
// problem never quotes the value.
func fieldValue(name string, raw any) (string, string) {
	var s string
	switch x := raw.(type) {
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		s = strconv.FormatBool(x)
	default:
		return "", fmt.Sprintf("is a JSON %s, not a text value", jsonKind(raw))
	}
	if strings.TrimSpace(s) == "" {
		return "", "is empty"
	}
	lower := strings.ToLower(name)
	switch {
	case strings.Contains(lower, "email") || strings.Contains(lower, "e-mail"):
		if !validEmail(s) {
			return "", "is not a valid email address"
		}
	case isDateField(lower):
		if !validDate(s) {
			return "", "is not a date as YYYY-MM-DD (ISO 8601) or DD/MM/YYYY"
		}
	}
	return s, ""
}

func isDateField(lower string) bool {
	return strings.Contains(lower, "birth") || strings.Contains(lower, "date") || lower == "dob"
}

func validEmail(s string) bool {
	if simpleEmail(s) {
		return true
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.HasSuffix(s, ".")
}

// simpleEmail accepts the common shape local@domain.tld made of dot-atoms of
// letters, digits and ._%+- (local) or .- (domain) without empty atoms: a
// subset of RFC 5322 addresses, checked without net/mail's full parser.
func simpleEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if !strings.Contains(domain, ".") {
		return false
	}
	ok := func(part, extra string) bool {
		prevDot := true
		for i := 0; i < len(part); i++ {
			c := part[i]
			switch {
			case c == '.':
				if prevDot {
					return false
				}
				prevDot = true
				continue
			case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte(extra, c) >= 0:
			default:
				return false
			}
			prevDot = false
		}
		return !prevDot
	}
	return ok(local, "_%+-") && ok(domain, "-")
}

func validDate(s string) bool {
	for _, layout := range []string{"2006-01-02", "02/01/2006", time.RFC3339, "2006-01-02T15:04:05"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	return false
}

// redactClaims copies claims with every string, and every number but the
// top-level times, replaced by its fingerprint: the structure and the field
// names stay readable, the values do not.
func redactClaims(claims map[string]any) map[string]any {
	out := make(map[string]any, len(claims))
	for k, val := range claims {
		switch k {
		case "exp", "nbf", "iat":
			if _, ok := val.(float64); ok {
				out[k] = val // the boxed number itself: no new allocation
				continue
			}
		case "iss", "aud", "campaignId":
			if finding.PublicClaim(k, val) {
				out[k] = val
				continue
			}
		}
		out[k] = redactValue(val)
	}
	return out
}

// fingerprint is finding.Fingerprint without encoding the digest's unused
// bytes (the redaction of a token's claims computes dozens of them).
func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	var out [7 + 12]byte
	copy(out[:], "sha256:")
	hex.Encode(out[7:], sum[:6])
	return string(out[:])
}

func redactValue(val any) any {
	switch x := val.(type) {
	case string:
		return fingerprint(x)
	case float64:
		return fingerprint(strconv.FormatFloat(x, 'g', -1, 64))
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = redactValue(v)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, v := range x {
			a[i] = redactValue(v)
		}
		return a
	}
	return val // bool, null
}
