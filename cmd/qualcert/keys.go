package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/token"
)

const keysUsage = `Usage: qualcert keys generate --alg ALG --out DIR [--kid KID]

Writes a fresh key pair (or shared secret) for test set-ups into DIR, which is
created if needed. Existing files are never overwritten.

  --alg ALG   signing: RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA
              HS256 HS384 HS512 (a shared secret)
              encryption: RSA-OAEP RSA-OAEP-256 ECDH-ES ECDH-ES+A128KW ECDH-ES+A192KW
              ECDH-ES+A256KW, A128KW A192KW A256KW A128GCMKW A192GCMKW A256GCMKW (shared keys)
  --out DIR   where to write the files
  --kid KID   key id (default: the start of the key's RFC 7638 thumbprint)

Files, for an asymmetric ALG:
  private.pem   PKCS#8 private key (mode 0600)
  private.jwk   private JWK with kid, alg and use (mode 0600)
  public.pem    SPKI public key: give it to Qualifio, or use it with --key
  jwks.json     JWKS holding the public JWK: publish it at your jwks_url
For a symmetric ALG:
  secret.jwk    the key as an oct JWK (mode 0600): secret_file / --secret-file for HS*,
                decryption_key_file / --decrypt-key for A*KW
  secret        HS* only: the same secret as text, 64 base64url characters whose bytes
                are the key (mode 0600), for systems that take a raw secret

Exit status: 0 written, 2 usage or I/O error.
`

func cmdKeys(ctx context.Context, e env, args []string) int {
	printUsage := func(w io.Writer) { fmt.Fprint(w, keysUsage) }
	args, code, done := subcommand(e, args, "keys", "generate", printUsage)
	if done {
		return code
	}
	fs := newFlags("keys generate")
	alg := fs.String("alg", "", "key `ALG`")
	out := fs.String("out", "", "`DIR` to write the files into")
	kid := fs.String("kid", "", "key id `KID`")
	if code, done := parseFlags(e, fs, "keys generate", args, printUsage); done {
		return code
	}
	positional := fs.Args()
	if len(positional) > 0 {
		fmt.Fprintf(e.stderr, "qualcert keys generate: unexpected argument %q\n", positional[0])
		return exitUsage
	}
	if *alg == "" || *out == "" {
		fmt.Fprintln(e.stderr, "qualcert keys generate: --alg and --out are required")
		return exitUsage
	}
	if !slices.Contains(token.GenerateAlgorithms, *alg) {
		fmt.Fprintf(e.stderr, "qualcert keys generate: --alg %q is not supported%s\n  supported: %s\n", *alg,
			didYouMean(*alg, token.GenerateAlgorithms), strings.Join(token.GenerateAlgorithms, " "))
		return exitUsage
	}
	k, err := token.Generate(*alg, *kid)
	if err != nil {
		fmt.Fprintf(e.stderr, "qualcert keys generate: %v\n", err)
		return exitUsage
	}
	if n := map[string]int{"HS256": 48, "HS384": 48, "HS512": 48}[k.Alg]; n > 0 {
		// a printable secret: 64 base64url characters (384 bits), enough for HS512
		b := make([]byte, n)
		if _, err := rand.Read(b); err != nil {
			fmt.Fprintf(e.stderr, "qualcert keys generate: %v\n", err)
			return exitUsage
		}
		k.Private = []byte(base64.RawURLEncoding.EncodeToString(b))
	}
	if k.KID == "" {
		if k.KID, err = thumbprintKID(k); err != nil {
			fmt.Fprintf(e.stderr, "qualcert keys generate: %v\n", err)
			return exitUsage
		}
	}
	files, err := keyFiles(k)
	if err != nil {
		fmt.Fprintf(e.stderr, "qualcert keys generate: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(e.stderr, "qualcert keys generate: creating %s: %v\n", *out, err)
		return exitUsage
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(*out, f.name)); err == nil {
			fmt.Fprintf(e.stderr, "qualcert keys generate: %s already exists; choose another --out\n", filepath.Join(*out, f.name))
			return exitUsage
		}
	}
	for _, f := range files {
		p := filepath.Join(*out, f.name)
		fh, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.mode)
		if err == nil {
			_, err = fh.Write(f.data)
			if cerr := fh.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "qualcert keys generate: writing %s: %v\n", p, err)
			return exitUsage
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", p)
	}
	fmt.Fprintf(e.stdout, "kid %s, alg %s\n", k.KID, k.Alg)
	return exitOK
}

type keyFile struct {
	name string
	mode os.FileMode
	data []byte
}

func keyFiles(k token.Key) ([]keyFile, error) {
	if secret, ok := k.Private.([]byte); ok {
		jwk := jose.JSONWebKey{Key: secret, KeyID: k.KID, Algorithm: k.Alg, Use: useOf(k.Alg)}
		j, err := json.MarshalIndent(jwk, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encoding the JWK: %w", err)
		}
		files := []keyFile{{"secret.jwk", 0o600, append(j, '\n')}}
		if !token.IsEncryptionAlg(k.Alg) {
			// an HMAC secret is text, so that it survives copy and paste
			files = append(files, keyFile{"secret", 0o600, append(append([]byte(nil), secret...), '\n')})
		}
		return files, nil
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return nil, fmt.Errorf("encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	privJWK, err := json.MarshalIndent(k.PrivateJWK(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the private JWK: %w", err)
	}
	jwks, err := json.MarshalIndent(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.PublicJWK()}}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the JWKS: %w", err)
	}
	return []keyFile{
		{"private.pem", 0o600, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})},
		{"private.jwk", 0o600, append(privJWK, '\n')},
		{"public.pem", 0o644, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})},
		{"jwks.json", 0o644, append(jwks, '\n')},
	}, nil
}

func useOf(alg string) string {
	if token.IsEncryptionAlg(alg) {
		return "enc"
	}
	return "sig"
}

// thumbprintKID names a key by the start of its RFC 7638 thumbprint (a
// random id for a shared key: its thumbprint would be a hash of the secret).
func thumbprintKID(k token.Key) (string, error) {
	if _, ok := k.Private.([]byte); ok {
		b := make([]byte, 12)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("making a key id: %w", err)
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	jwk := jose.JSONWebKey{Key: k.Public()}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("computing the key's thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)[:16], nil
}

// loadPrivateKey reads a signing or decryption key: PEM (PKCS#8, PKCS#1,
// SEC 1), a private JWK, or raw bytes for a shared secret. alg and kid come
// from the JWK when it has them; otherwise alg is guessed from the key type.
func loadPrivateKey(path string) (token.Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return token.Key{}, fmt.Errorf("reading key: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{' && json.Valid(trimmed):
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(trimmed); err != nil {
			return token.Key{}, fmt.Errorf("reading key %s: %w", path, err)
		}
		if jwk.IsPublic() {
			if _, sym := jwk.Key.([]byte); !sym {
				return token.Key{}, fmt.Errorf("reading key %s: it is a public JWK; signing needs the private key", path)
			}
		}
		alg := jwk.Algorithm
		if alg == "" {
			alg = guessAlg(jwk.Key)
		}
		return token.Key{Alg: alg, KID: jwk.KeyID, Private: jwk.Key}, nil
	case bytes.Contains(data, []byte("-----BEGIN")):
		priv, err := token.ParsePrivatePEM(data)
		if err != nil {
			return token.Key{}, fmt.Errorf("reading key %s: %w", path, err)
		}
		return token.Key{Alg: guessAlg(priv), Private: priv}, nil
	}
	secret := token.RawSecret(data)
	if len(secret) == 0 {
		return token.Key{}, fmt.Errorf("reading key %s: the file is empty", path)
	}
	return token.Key{Alg: guessAlg(secret), Private: secret}, nil
}

// loadRecipientKey reads the key a JWE is encrypted to: a public key (PEM or
// JWK), or the private key / shared key file whose public part is used.
func loadRecipientKey(path string) (token.Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return token.Key{}, fmt.Errorf("reading encryption key: %w", err)
	}
	trimmed := bytes.TrimSpace(data)
	var pub any
	kid, alg := "", ""
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{':
		var jwk jose.JSONWebKey
		var set jose.JSONWebKeySet
		if json.Unmarshal(trimmed, &set) == nil && len(set.Keys) > 0 {
			if len(set.Keys) > 1 {
				return token.Key{}, fmt.Errorf("reading encryption key %s: %d keys in the JWKS; give one", path, len(set.Keys))
			}
			jwk = set.Keys[0]
		} else if err := jwk.UnmarshalJSON(trimmed); err != nil {
			return token.Key{}, fmt.Errorf("reading encryption key %s: %w", path, err)
		}
		pub, kid, alg = jwk.Key, jwk.KeyID, jwk.Algorithm
	case bytes.Contains(data, []byte("PUBLIC KEY-----")):
		block, _ := pem.Decode(data)
		if block == nil {
			return token.Key{}, fmt.Errorf("reading encryption key %s: bad PEM", path)
		}
		if pub, err = x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			return token.Key{}, fmt.Errorf("reading encryption key %s: %w", path, err)
		}
	default:
		k, err := loadPrivateKey(path)
		if err != nil {
			return token.Key{}, err
		}
		pub, kid = k.Private, k.KID
		if s, ok := k.Private.(crypto.Signer); ok {
			pub = s.Public()
		}
	}
	if alg == "" || !token.IsEncryptionAlg(alg) {
		switch p := pub.(type) {
		case *rsa.PublicKey:
			alg = "RSA-OAEP-256"
		case *ecdsa.PublicKey:
			alg = "ECDH-ES+A256KW"
		case []byte:
			alg = map[int]string{16: "A128KW", 24: "A192KW", 32: "A256KW"}[len(p)]
			if alg == "" {
				return token.Key{}, fmt.Errorf("reading encryption key %s: a %d-byte shared key fits no key-wrapping algorithm (16, 24 or 32 bytes)", path, len(p))
			}
		default:
			return token.Key{}, fmt.Errorf("reading encryption key %s: a %T cannot receive a JWE (use RSA or EC)", path, pub)
		}
	}
	// token.Encrypt encrypts to Key.Public() when there is one, else to Private.
	return token.Key{Alg: alg, KID: kid, Private: publicHolder(pub)}, nil
}

// publicHolder wraps a public key so that token.Key.Public() returns it;
// shared keys are returned as they are.
func publicHolder(pub any) any {
	switch pub.(type) {
	case []byte:
		return pub
	}
	return signerOf{pub: pub}
}

// signerOf is a crypto.Signer that only knows its public key: token.Encrypt
// calls Public() and nothing else.
type signerOf struct{ pub crypto.PublicKey }

func (s signerOf) Public() crypto.PublicKey { return s.pub }
func (s signerOf) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("a public key cannot sign")
}

func guessAlg(k any) string {
	switch v := k.(type) {
	case *rsa.PrivateKey, *rsa.PublicKey:
		return "RS256"
	case *ecdsa.PrivateKey:
		return map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[v.Curve.Params().Name]
	case *ecdsa.PublicKey:
		return map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}[v.Curve.Params().Name]
	case ed25519.PrivateKey, ed25519.PublicKey:
		return "EdDSA"
	case []byte:
		switch {
		case len(v) >= 64:
			return "HS512"
		case len(v) >= 48:
			return "HS384"
		}
		return "HS256"
	}
	return ""
}
