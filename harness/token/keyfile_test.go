package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

func TestParsePrivatePEMReadsTheThreeEncodings(t *testing.T) {
	rk, err := Generate("RS256", "")
	if err != nil {
		t.Fatal(err)
	}
	ek, err := Generate("ES256", "")
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ek.Private)
	sec1, _ := x509.MarshalECPrivateKey(ek.Private.(*ecdsa.PrivateKey))
	pkcs1 := x509.MarshalPKCS1PrivateKey(rk.Private.(*rsa.PrivateKey))
	for typ, der := range map[string][]byte{"PRIVATE KEY": pkcs8, "EC PRIVATE KEY": sec1, "RSA PRIVATE KEY": pkcs1} {
		priv, err := ParsePrivatePEM(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
		if err != nil || priv == nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	pub, _ := x509.MarshalPKIXPublicKey(ek.Public())
	if _, err := ParsePrivatePEM(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})); err == nil || !strings.Contains(err.Error(), "not a private key") {
		t.Errorf("a public key was read as private: %v", err)
	}
	if _, err := ParsePrivatePEM([]byte("no pem here")); err == nil {
		t.Error("garbage was read as a key")
	}
	if _, err := ParsePrivatePEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}})); err == nil {
		t.Error("a corrupt DER was read as a key")
	}
}

func TestRawSecretDropsOneEditorNewline(t *testing.T) {
	for in, want := range map[string]string{"s3cret\n": "s3cret", "s3cret\r\n": "s3cret", "s3cret\n\n": "s3cret\n", "s3cret": "s3cret", " s3cret ": " s3cret "} {
		if got := RawSecret([]byte(in)); !bytes.Equal(got, []byte(want)) {
			t.Errorf("RawSecret(%q) = %q, want %q", in, got, want)
		}
	}
}
