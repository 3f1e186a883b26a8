package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/verify"
)

const verifyUsage = `Usage: qualcert verify [TOKEN | FILE | -] [flags]

Verifies one token with the reference verifier, the way Qualifio judges the
token a page passes to setMetaData. The token is the argument (read from the
file it names, when one exists), or stdin when the argument is "-" or absent
(surrounding whitespace is trimmed).

With a key source the token is verified. qualcert never verifies a token
with a key the token names itself (jwk, jku, x5u).

Without a key source the token is only decoded: its header and claims are
printed (values redacted unless --reveal), marked NOT VERIFIED, with the
findings that need no key (a malformed token, alg none, a repeated member
name, expired…). Use it to find the kid and iss of a captured token. A JWE
cannot be decoded without --decrypt-key.

Key sources (one of, or from --profile):
  --key FILE          PEM public key (RSA, EC, Ed25519; SPKI or certificate)
  --jwks FILE|URL     JWKS file, or an http(s) URL (fetched once, 1 MiB cap)
  --secret-file FILE  shared secret for HS256/384/512
  --decrypt-key FILE  private key (PEM or JWK) or symmetric key for a JWE
  --kid KID           use only the key with this kid (a token without kid
                      against a JWKS of several keys)

Expectations (override the profile):
  --profile FILE      a qualcert profile (qualcert schema profile prints its keys)
  --alg ALG           allowed JWS algorithm; repeat or comma-separate
                      (default: RS/PS/ES 256-512 and EdDSA; HS* with --secret-file)
  --iss S             expected issuer (not checked when neither this nor a profile gives one)
  --aud S             expected audience
  --campaign-id S     expected campaignId (default: the profile's campaign when it has one)
  --userinfo URL      user-info webservice for tokens that carry an access token
  --at TIME           judge exp, nbf and iat as of TIME instead of now: RFC 3339
                      (2026-11-24T10:00:00Z), Unix seconds, or "iat" (the token's own
                      issue time). A captured token has expired by the time support
                      sees it; --at its capture time shows what the page really sent.

Output:
  --json              print one JSON object instead of text
  --reveal            show claim and field values (default: keyed fingerprints,
                      comparable within one invocation only)

Exit status:
  0  valid (warnings allowed)
  1  invalid (with or without a key: a must finding)
  2  usage error
  3  no verdict: the key source (--jwks URL) could not be read (DNS, timeout,
     error status, over 1 MiB, redirect to another host): env.key_source
  4  decoded only, NOT VERIFIED: no key source was given; no must finding in
     what could be judged without a key

Examples:
  qualcert verify token.txt                                   # decode only: header, kid, iss
  qualcert verify --key publisher.pub.pem --iss example-media --campaign-id 945644 < token.txt
  qualcert verify --jwks https://www.example.com/.well-known/jwks.json --at iat token.txt
`

// exitNotVerified is verify's answer when it could only decode the token.
const exitNotVerified = 4

// algList is a repeatable, comma-separating flag.
type algList []string

func (a *algList) String() string { return strings.Join(*a, ",") }
func (a *algList) Type() string   { return "ALG" }
func (a *algList) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*a = append(*a, p)
		}
	}
	return nil
}

func cmdVerify(ctx context.Context, e env, args []string) int {
	fs := newFlags("verify")
	var (
		profilePath = fs.String("profile", "", "a qualcert profile `FILE`")
		jwks        = fs.String("jwks", "", "JWKS `FILE|URL`")
		keyFile     = fs.String("key", "", "PEM public key `FILE`")
		secretFile  = fs.String("secret-file", "", "shared secret `FILE`")
		decryptKey  = fs.String("decrypt-key", "", "JWE decryption key `FILE`")
		iss         = fs.String("iss", "", "expected issuer `S`")
		aud         = fs.String("aud", "", "expected audience `S`")
		campaignID  = fs.String("campaign-id", "", "expected campaignId `S`")
		userInfo    = fs.String("userinfo", "", "user-info webservice `URL`")
		asJSON      = fs.Bool("json", false, "print one JSON object")
		reveal      = fs.Bool("reveal", false, "show claim and field values")
		algs        algList
	)
	fs.Var(&algs, "alg", "allowed JWS algorithm `ALG`")
	atFlag := fs.String("at", "", "judge time claims as of `TIME` (RFC 3339, Unix seconds, or iat)")
	kid := fs.String("kid", "", "use only the key with this `KID`")
	if code, done := parseFlags(e, fs, "verify", args, func(w io.Writer) { fmt.Fprint(w, verifyUsage) }); done {
		return code
	}
	positional := fs.Args()
	if len(positional) > 1 {
		fmt.Fprintf(e.stderr, "qualcert verify: one token at a time (got %d arguments)\n", len(positional))
		return exitUsage
	}

	cfg := verify.Config{
		Mode: profile.ModeAny, FieldsClaim: "form", AccessTokenClaim: profile.DefaultAccessTokenClaim,
		MaxLifetime: profile.DefaultMaxLifetime, Leeway: profile.DefaultLeeway,
	}
	if *profilePath != "" {
		p, err := profile.Load(*profilePath)
		if err != nil {
			fmt.Fprintf(e.stderr, "qualcert verify: %v\n", err)
			return exitUsage
		}
		cfg = verify.ConfigFromProfile(p)
		if len(p.Campaigns) == 1 {
			cfg.CampaignID = p.Campaigns[0].CampaignID
		}
	}
	if *jwks != "" || *keyFile != "" || *secretFile != "" {
		// key flags replace the profile's key sources rather than add to them
		cfg.JWKSURL, cfg.JWKSFile, cfg.PublicKeyFile, cfg.SecretFile = "", "", "", ""
		if *profilePath != "" && len(algs) == 0 {
			cfg.Algorithms = nil
		}
	}
	if strings.HasPrefix(*jwks, "http://") || strings.HasPrefix(*jwks, "https://") {
		cfg.JWKSURL = *jwks
	} else if *jwks != "" {
		cfg.JWKSFile = *jwks
	}
	if *keyFile != "" {
		cfg.PublicKeyFile = *keyFile
	}
	if *secretFile != "" {
		cfg.SecretFile = *secretFile
	}
	if *decryptKey != "" {
		cfg.DecryptionKeyFile = *decryptKey
	}
	if len(algs) > 0 {
		cfg.Algorithms = algs
	}
	if *iss != "" {
		cfg.Issuer = *iss
	}
	if *aud != "" {
		cfg.Audience = *aud
	}
	if *campaignID != "" {
		cfg.CampaignID = *campaignID
	}
	if *userInfo != "" {
		cfg.UserInfo.URL = *userInfo
	}
	if *kid != "" {
		cfg.KeyID = *kid
	}
	opt := verify.Options{CampaignID: cfg.CampaignID}
	if *atFlag != "" {
		var err error
		if opt.At, opt.AtIssued, err = parseAt(*atFlag); err != nil {
			fmt.Fprintf(e.stderr, "qualcert verify: --at: %v\n", err)
			return exitUsage
		}
	}
	decodeOnly := cfg.JWKSURL == "" && cfg.JWKSFile == "" && cfg.PublicKeyFile == "" && cfg.SecretFile == "" && cfg.DecryptionKeyFile == ""

	tok, err := readToken(e, positional)
	if err != nil {
		fmt.Fprintf(e.stderr, "qualcert verify: %v\n", err)
		return exitUsage
	}
	if verify.IsJWE(tok) && cfg.DecryptionKeyFile == "" {
		fmt.Fprintln(e.stderr, "qualcert verify: the token is a JWE (five parts): its header and claims are encrypted; give --decrypt-key FILE, the private key (or shared key) it was encrypted to")
		return exitUsage
	}
	cfg.Resolver = e.resolver
	v, err := verify.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(e.stderr, "qualcert verify: %v\n", err)
		return exitUsage
	}
	// What was not checked is part of the verdict, not a side note: a
	// VALID without an issuer expectation says so on the verdict line.
	var unchecked []string
	if cfg.Issuer == "" {
		fmt.Fprintln(e.stderr, "qualcert verify: note: no --iss given, iss is not checked")
		unchecked = append(unchecked, "iss not checked")
	}
	if cfg.CampaignID == "" {
		fmt.Fprintln(e.stderr, "qualcert verify: note: no --campaign-id given, campaignId is required but not compared")
		unchecked = append(unchecked, "campaignId not compared")
	}
	if decodeOnly {
		fmt.Fprintln(e.stderr, "qualcert verify: note: no key source (--key, --jwks, --secret-file, --decrypt-key or a --profile that names one): decoding only, the signature is NOT VERIFIED")
		unchecked = append([]string{"signature not verified: no key"}, unchecked...)
	}
	var res *verify.Result
	if decodeOnly {
		res = v.Inspect(ctx, tok, opt)
	} else {
		res = v.Verify(ctx, tok, opt)
	}
	if *asJSON {
		printVerifyJSON(e.stdout, res, *reveal, unchecked)
	} else {
		printVerifyText(e.stdout, res, *reveal, unchecked)
	}
	for _, f := range res.Findings {
		if f.Code == finding.EnvKeySource {
			fmt.Fprintf(e.stderr, "qualcert verify: no verdict: the key source could not be read: %s\n", finding.RedactText(f.Message))
			return exitBroken
		}
	}
	switch {
	case !res.Valid():
		return exitFailed
	case res.Unverified:
		return exitNotVerified
	}
	return exitOK
}

// parseAt reads --at: RFC 3339, Unix seconds, or "iat".
func parseAt(s string) (at time.Time, issued bool, err error) {
	if strings.EqualFold(s, "iat") {
		return time.Time{}, true, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, false, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 && n < 1e11 {
		return time.Unix(n, 0).UTC(), false, nil
	}
	return time.Time{}, false, fmt.Errorf("%q is not a time: give RFC 3339 (2026-11-24T10:00:00Z), Unix seconds (1795000000) or iat", s)
}

// maxStdinToken bounds what is read from stdin: far over the verifier's cap,
// so that an oversized token is judged (token.too_large), not truncated.
const maxStdinToken = 4 << 20

func readToken(e env, positional []string) (string, error) {
	if len(positional) == 1 && positional[0] != "-" {
		arg := positional[0]
		// base64url has no path separator and a token is never the name
		// of an existing file: an argument that names one is read from it.
		if st, err := os.Stat(arg); err == nil && st.Mode().IsRegular() {
			fmt.Fprintf(e.stderr, "qualcert verify: note: reading the token from the file %s\n", arg)
			f, err := os.Open(arg)
			if err != nil {
				return "", fmt.Errorf("reading the token: %w", err)
			}
			defer f.Close()
			return readTokenFrom(f, "the file "+arg)
		}
		return strings.TrimSpace(arg), nil
	}
	return readTokenFrom(e.stdin, "stdin")
}

func readTokenFrom(r io.Reader, what string) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxStdinToken+1))
	if err != nil {
		return "", fmt.Errorf("reading the token from %s: %w", what, err)
	}
	if len(data) > maxStdinToken {
		return "", fmt.Errorf("reading the token from %s: over %d bytes", what, maxStdinToken)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", fmt.Errorf("no token in %s: give it as an argument, a file or on stdin", what)
	}
	return tok, nil
}

// verifyOutput is the --json document: the result, its verdict, and the raw
// values only with --reveal.
type verifyOutput struct {
	Valid     bool     `json:"valid"`
	Verdict   string   `json:"verdict"`             // "valid", "invalid", or "not_verified" (decoded without a key)
	Unchecked []string `json:"unchecked,omitempty"` // expectations that were not given, so not checked
	// Fingerprints says the fingerprints are keyed with this invocation's
	// key: they compare within this output only.
	Fingerprints string `json:"fingerprints,omitempty"`
	*verify.Result
	RevealedClaims map[string]any    `json:"revealed_claims,omitempty"`
	RevealedFields map[string]string `json:"revealed_fields,omitempty"`
}

// redactResult returns a copy of res fit for output without --reveal: the
// JOSE headers with only their structural members readable
// (finding.RedactHeader), and every message scrubbed of the run's secrets
// (the token, each claim value: finding.RedactText).
func redactResult(res *verify.Result) *verify.Result {
	c := *res
	c.Header, c.InnerHeader = finding.RedactHeader(res.Header), finding.RedactHeader(res.InnerHeader)
	c.Findings = make([]finding.Finding, len(res.Findings))
	for i, f := range res.Findings {
		f.Message, f.Campaign = finding.RedactText(f.Message), finding.RedactText(f.Campaign)
		c.Findings[i] = f
	}
	if res.UserInfo != nil {
		ui := *res.UserInfo
		ui.URL, ui.Error = finding.RedactText(ui.URL), finding.RedactText(ui.Error)
		c.UserInfo = &ui
	}
	return &c
}

func printVerifyJSON(w io.Writer, res *verify.Result, reveal bool, unchecked []string) {
	out := verifyOutput{Valid: res.Valid() && !res.Unverified, Verdict: verdictOf(res), Unchecked: unchecked, Result: res}
	if reveal {
		out.RevealedClaims, out.RevealedFields = res.Claims, res.Fields
	} else {
		out.Result = redactResult(res)
		out.Fingerprints = finding.FingerprintNote
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

func printVerifyText(w io.Writer, res *verify.Result, reveal bool, unchecked []string) {
	if !reveal {
		res = redactResult(res)
	}
	format := res.Format
	if format == "" {
		format = "unreadable"
	}
	fmt.Fprintf(w, "Token:    %s (%s)\n", res.Fingerprint, format)
	if res.Unverified {
		fmt.Fprintln(w, "          NOT VERIFIED: decoded without a key; anyone could have made this token")
	}
	if res.TimesAsOf != "" {
		fmt.Fprintf(w, "Times:    judged as of %s (--at), not now\n", res.TimesAsOf)
	}
	if res.Header != nil {
		fmt.Fprintf(w, "Header:   %s\n", compactJSON(res.Header))
	}
	if res.InnerHeader != nil {
		fmt.Fprintf(w, "Inner:    %s\n", compactJSON(res.InnerHeader))
	}
	if res.Claims != nil {
		claims, note := res.RedactedClaims, "values shown as keyed fingerprints, comparable within this output only; --reveal shows them"
		if reveal {
			claims, note = res.Claims, "revealed"
		}
		b, _ := json.MarshalIndent(claims, "          ", "  ")
		fmt.Fprintf(w, "Claims:   (%s)\n          %s\n", note, b)
		for _, n := range []string{"iat", "nbf", "exp"} {
			if f, ok := res.RedactedClaims[n].(float64); ok {
				fmt.Fprintf(w, "          %s = %s\n", n, time.Unix(int64(f), 0).UTC().Format(time.RFC3339))
			}
		}
	}
	if res.Mode != "" {
		fmt.Fprintf(w, "Mode:     %s\n", res.Mode)
	}
	if len(res.FieldNames) > 0 {
		if reveal {
			names := append([]string(nil), res.FieldNames...)
			sort.Strings(names)
			var parts []string
			for _, n := range names {
				parts = append(parts, fmt.Sprintf("%s=%q", n, res.Fields[n]))
			}
			fmt.Fprintf(w, "Fields:   %s\n", strings.Join(parts, ", "))
		} else {
			fmt.Fprintf(w, "Fields:   %s\n", strings.Join(res.FieldNames, ", "))
		}
	}
	if ui := res.UserInfo; ui != nil {
		fmt.Fprintf(w, "UserInfo: %s %s → status %d in %.0f ms\n", ui.Method, ui.URL, ui.Status, ui.DurationMs)
	}
	counts := map[finding.Level]int{}
	if len(res.Findings) > 0 {
		fmt.Fprintln(w, "Findings:")
	}
	for _, f := range res.Findings {
		counts[f.Level]++
		fmt.Fprintf(w, "  [%s] %s (%s): %s\n", f.Level, f.Code, f.Requirement, f.Message)
		fmt.Fprintf(w, "         hint: %s\n", f.Hint)
	}
	verdict := map[string]string{"valid": "VALID", "invalid": "INVALID", "not_verified": "NOT VERIFIED"}[verdictOf(res)]
	if len(unchecked) > 0 {
		verdict += " (" + strings.Join(unchecked, ", ") + ")"
	}
	fmt.Fprintf(w, "%s: %d must, %d should, %d info\n", verdict, counts[finding.Must], counts[finding.Should], counts[finding.Info])
}

// verdictOf is the verdict of verify: a must finding makes a token invalid
// with or without a key; otherwise it is valid only when verified.
func verdictOf(res *verify.Result) string {
	switch {
	case !res.Valid():
		return "invalid"
	case res.Unverified:
		return "not_verified"
	}
	return "valid"
}

func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
