package demo

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/token"
)

// keys are the demo's keys and the private folder the decryption keys live in.
type keys struct {
	sign token.Key // ES256, published in the JWKS
	enc  token.Key // RSA-OAEP-256 key pair "given to Qualifio": tokens are encrypted to its public part
	dir  token.Key // dir/A256GCM key shared with Qualifio

	dirPath string // the temporary folder
	encFile string // enc's private key, PKCS#8 PEM
	dirFile string // the shared key, as an oct JWK
}

// Key ids, as a publisher would rotate them.
const (
	signKID = "demo-media-sig-1"
	encKID  = "qualifio-enc-1"
	dirKID  = "demo-media-shared-1"
)

// newKeys generates the keys and writes the two decryption keys to a fresh
// folder only the current user can read.
func newKeys() (keys, error) {
	var k keys
	var err error
	if k.sign, err = token.Generate("ES256", signKID); err != nil {
		return keys{}, err
	}
	if k.enc, err = token.Generate("RSA-OAEP-256", encKID); err != nil {
		return keys{}, err
	}
	if k.dir, err = token.DirKey(jose.A256GCM, dirKID); err != nil {
		return keys{}, err
	}
	if k.dirPath, err = os.MkdirTemp("", "qualcert-demo-keys-*"); err != nil {
		return keys{}, fmt.Errorf("creating the key folder: %w", err)
	}
	if err := os.Chmod(k.dirPath, 0o700); err != nil {
		k.remove()
		return keys{}, fmt.Errorf("protecting the key folder: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.enc.Private)
	if err != nil {
		k.remove()
		return keys{}, fmt.Errorf("encoding the encryption key: %w", err)
	}
	k.encFile = filepath.Join(k.dirPath, "qualifio-enc.pem")
	if err := os.WriteFile(k.encFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		k.remove()
		return keys{}, fmt.Errorf("writing the encryption key: %w", err)
	}
	secret, _ := k.dir.Private.([]byte)
	jwk, err := json.MarshalIndent(map[string]string{
		"kty": "oct", "kid": dirKID, "alg": "dir", "use": "enc",
		"k": base64.RawURLEncoding.EncodeToString(secret),
	}, "", "  ")
	if err != nil {
		k.remove()
		return keys{}, fmt.Errorf("encoding the shared key: %w", err)
	}
	k.dirFile = filepath.Join(k.dirPath, "shared-a256gcm.jwk.json")
	if err := os.WriteFile(k.dirFile, append(jwk, '\n'), 0o600); err != nil {
		k.remove()
		return keys{}, fmt.Errorf("writing the shared key: %w", err)
	}
	return k, nil
}

// jwks is the public key set the demo publishes: the signing key only.
func (k keys) jwks() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.sign.PublicJWK()}}
}

// remove deletes the key folder.
func (k keys) remove() error {
	if k.dirPath == "" {
		return nil
	}
	if err := os.RemoveAll(k.dirPath); err != nil {
		return fmt.Errorf("removing the demo keys: %w", err)
	}
	return nil
}

// randomID is a fresh unguessable identifier (session cookies, access tokens).
func randomID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a random id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
