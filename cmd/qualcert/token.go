package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/token"
)

const tokenUsage = `Usage: qualcert token mint --claims FILE --key PRIVATE [flags]

Mints a test token as a publisher would, and prints it on stdout. Use it to
see what a correct token looks like, or to reproduce a customer's token with
a test key. The token printed is a bearer credential for the claims given:
mint with test keys and test identities only.

  --claims FILE       JSON object of claims (sub, campaignId, form…)
  --key FILE          signing key: PEM private key (PKCS#8, PKCS#1, SEC 1), a private
                      JWK (its kid and alg are used), or a raw shared secret (HS*)
  --profile FILE      a qualcert profile: fills iss, and campaignId when the profile
                      has one campaign; its secret_file signs when --key is absent;
                      its decryption_key_file is the --encrypt recipient by default
  --alg ALG           signing algorithm (default: the JWK's alg, else from the key type:
                      RS256, ES256/384/512, EdDSA, HS256/384/512)
  --kid KID           key id header (default: the JWK's kid)
  --encrypt           nest the signed JWT in a JWE (cty: JWT)
  --encrypt-key FILE  the JWE recipient: PEM public key, public JWK/JWKS, or the private
                      or shared key file (its public part is used); alg RSA-OAEP-256 for
                      RSA, ECDH-ES+A256KW for EC, A*KW for shared keys (or the JWK's alg)
  --enc ENC           content encryption (default A256GCM)
  --lifetime D        exp − iat for claims without exp (default 5m)
  --iss S             the iss claim (overrides the claims file and the profile)
  --campaign-id S     the campaignId claim (overrides the claims file and the profile)
  --raw               sign the claims exactly as given (no iat/nbf/exp/iss/campaignId filled)

Unless --raw, missing times are filled so that nbf ≤ iat < exp: iat = now (or
exp − lifetime when the exp given has passed), nbf = iat − 2m, exp = iat +
lifetime. Given times that contradict each other are refused.

Exit status: 0 minted, 2 usage error.

Example:
  qualcert keys generate --alg ES256 --out keys
  echo '{"sub":"42","campaignId":"945644","form":{"email":"qa@example.com"}}' > claims.json
  qualcert token mint --claims claims.json --key keys/private.jwk | qualcert verify --key keys/public.pem
`

func cmdToken(ctx context.Context, e env, args []string) int {
	printUsage := func(w io.Writer) { fmt.Fprint(w, tokenUsage) }
	args, code, done := subcommand(e, args, "token", "mint", printUsage)
	if done {
		return code
	}
	fs := newFlags("token mint")
	var (
		claimsPath  = fs.String("claims", "", "JSON claims `FILE`")
		keyPath     = fs.String("key", "", "signing key `FILE`")
		profilePath = fs.String("profile", "", "a qualcert profile `FILE`")
		alg         = fs.String("alg", "", "signing algorithm `ALG`")
		kid         = fs.String("kid", "", "key id `KID`")
		encrypt     = fs.Bool("encrypt", false, "nest the signed JWT in a JWE")
		encryptKey  = fs.String("encrypt-key", "", "JWE recipient key `FILE`")
		enc         = fs.String("enc", string(jose.A256GCM), "content encryption `ENC`")
		lifetime    = fs.Duration("lifetime", 5*time.Minute, "exp − iat `D`")
		raw         = fs.Bool("raw", false, "sign the claims exactly as given")
	)
	iss := fs.String("iss", "", "the iss claim `S` (overrides the claims file and the profile)")
	campaignID := fs.String("campaign-id", "", "the campaignId claim `S` (overrides the claims file and the profile)")
	if code, done := parseFlags(e, fs, "token mint", args, printUsage); done {
		return code
	}
	positional := fs.Args()
	var err error
	fail := func(format string, args ...any) int {
		fmt.Fprintf(e.stderr, "qualcert token mint: "+format+"\n", args...)
		return exitUsage
	}
	if len(positional) > 0 {
		return fail("unexpected argument %q", positional[0])
	}
	if *claimsPath == "" {
		return fail("--claims is required")
	}
	var p *profile.Profile
	if *profilePath != "" {
		if p, err = profile.Load(*profilePath); err != nil {
			return fail("%v", err)
		}
	}
	data, err := os.ReadFile(*claimsPath)
	if err != nil {
		return fail("reading claims: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(data, &claims); err != nil || claims == nil {
		return fail("reading claims %s: not a JSON object", *claimsPath)
	}
	if *iss != "" {
		claims["iss"] = *iss
	}
	if *campaignID != "" {
		claims["campaignId"] = *campaignID
	}
	if !*raw {
		if err := fillTimes(claims, time.Now().Unix(), int64(lifetime.Seconds())); err != nil {
			return fail("%s: %v", *claimsPath, err)
		}
		if p != nil {
			setDefault(claims, "iss", p.Token.Issuer)
			if len(p.Campaigns) == 1 {
				setDefault(claims, "campaignId", p.Campaigns[0].CampaignID)
			}
		}
	}

	keyFile := *keyPath
	if keyFile == "" && p != nil && p.Token.SecretFile != "" {
		keyFile = p.Token.SecretFile
	}
	if keyFile == "" {
		return fail("--key is required: the profile names only public keys, and minting signs with a private key or shared secret (make a test key pair with qualcert keys generate --alg ES256 --out DIR)")
	}
	sigKey, err := loadPrivateKey(keyFile)
	if err != nil {
		return fail("%v", err)
	}
	if *alg != "" {
		if algs := append(append([]string(nil), profile.DefaultAlgorithms...), profile.DefaultHMAC...); !slices.Contains(algs, *alg) {
			return fail("--alg %q is not a signing algorithm%s\n  supported: %s", *alg, didYouMean(*alg, algs), strings.Join(algs, " "))
		}
		sigKey.Alg = *alg
	}
	if *kid != "" {
		sigKey.KID = *kid
	}
	if sigKey.Alg == "" {
		return fail("cannot tell the signing algorithm of %s; give --alg", keyFile)
	}
	jws, err := token.Sign(claims, sigKey, token.SignOptions{})
	if err != nil {
		return fail("%v", err)
	}
	out := jws
	if encs := []string{"A128GCM", "A192GCM", "A256GCM", "A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512"}; *encrypt && !slices.Contains(encs, *enc) {
		return fail("--enc %q is not a content encryption%s\n  supported: %s", *enc, didYouMean(*enc, encs), strings.Join(encs, " "))
	}
	if *encrypt {
		recipient := *encryptKey
		if recipient == "" && p != nil {
			recipient = p.Token.DecryptionKeyFile
		}
		if recipient == "" {
			return fail("--encrypt needs --encrypt-key (or a profile with token.decryption_key_file)")
		}
		rk, err := loadRecipientKey(recipient)
		if err != nil {
			return fail("%v", err)
		}
		if out, err = token.Encrypt([]byte(jws), rk, jose.ContentEncryption(*enc), "JWT"); err != nil {
			return fail("%v", err)
		}
	}
	fmt.Fprintln(e.stdout, out)
	return exitOK
}

// fillTimes fills the time claims the claims file leaves out so that the
// token is consistent, nbf ≤ iat < exp, around what it gives: iat is now,
// or exp − lifetime when the exp given is not after now (a token that
// expired, to reproduce one), or nbf when nbf is later; nbf is iat − 2 min
// (clock skew), capped at iat; exp is iat + lifetime. Times given that
// contradict each other are an error: --raw signs them as they are.
func fillTimes(claims map[string]any, now, lifetime int64) error {
	get := func(name string) (int64, bool, error) {
		v, ok := claims[name]
		if !ok {
			return 0, false, nil
		}
		f, isNum := v.(float64)
		if !isNum || f != float64(int64(f)) {
			return 0, false, fmt.Errorf("%s is %v: give whole seconds since the epoch (or use --raw to sign it as it is)", name, v)
		}
		return int64(f), true, nil
	}
	iat, hasIat, err := get("iat")
	if err != nil {
		return err
	}
	nbf, hasNbf, err := get("nbf")
	if err != nil {
		return err
	}
	exp, hasExp, err := get("exp")
	if err != nil {
		return err
	}
	if !hasIat {
		iat = now
		if hasExp && exp <= iat {
			iat = exp - lifetime
		}
		if hasNbf && nbf > iat && (!hasExp || nbf < exp) {
			iat = nbf
		}
	}
	if !hasNbf {
		nbf = iat - 120
	}
	if !hasExp {
		exp = iat + lifetime
	}
	switch {
	case nbf > iat:
		return fmt.Errorf("nbf (%d) is after iat (%d); use --raw to mint such a token on purpose", nbf, iat)
	case iat >= exp:
		return fmt.Errorf("exp (%d) is not after iat (%d); use --raw to mint such a token on purpose", exp, iat)
	}
	claims["iat"], claims["nbf"], claims["exp"] = iat, nbf, exp
	return nil
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}
