package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/safefile"
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
  --raw               sign the claims exactly as given (no iat/nbf/exp/iss/campaignId filled)

Unless --raw, missing times are filled: iat = now, nbf = now − 2m, exp = now + lifetime.

Exit status: 0 minted, 2 usage error.

Example:
  qualcert keys generate --alg ES256 --out keys
  echo '{"sub":"42","campaignId":"945644","form":{"email":"qa@example.com"}}' > claims.json
  qualcert token mint --claims claims.json --key keys/private.jwk | qualcert verify --key keys/public.pem
`

func cmdToken(ctx context.Context, e env, args []string) int {
	args, code, done := subcommand(e, args, "token", "mint", tokenUsage)
	if done {
		return code
	}
	fs := newFlagSet(e, "token mint", tokenUsage)
	var (
		claimsPath  = fs.String("claims", "", "")
		keyPath     = fs.String("key", "", "")
		profilePath = fs.String("profile", "", "")
		alg         = fs.String("alg", "", "")
		kid         = fs.String("kid", "", "")
		encrypt     = fs.Bool("encrypt", false, "")
		encryptKey  = fs.String("encrypt-key", "", "")
		enc         = fs.String("enc", string(jose.A256GCM), "")
		lifetime    = fs.Duration("lifetime", 5*time.Minute, "")
		raw         = fs.Bool("raw", false, "")
	)
	positional, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
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
	data, err := safefile.Read(*claimsPath, safefile.MaxClaims)
	if err != nil {
		return fail("reading claims: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(data, &claims); err != nil || claims == nil {
		return fail("reading claims %s: not a JSON object", *claimsPath)
	}
	if !*raw {
		now := time.Now().Unix()
		setDefault(claims, "iat", now)
		setDefault(claims, "nbf", now-120)
		setDefault(claims, "exp", now+int64(lifetime.Seconds()))
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

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}
