package token

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// ParsePrivatePEM reads the first PEM block of data as a private key:
// PKCS#8 ("PRIVATE KEY"), PKCS#1 ("RSA PRIVATE KEY") or SEC 1 ("EC PRIVATE
// KEY"). It is how both the verifier (decryption keys) and `qualcert token
// mint` (signing keys) read a private key file, so they accept the same ones.
func ParsePrivatePEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("bad PEM")
	}
	var (
		priv any
		err  error
	)
	switch block.Type {
	case "PRIVATE KEY":
		priv, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		priv, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		priv, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("a %s block is not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing a %s block: %w", block.Type, err)
	}
	return priv, nil
}

// RawSecret is a shared secret read from a plain file: its bytes, less one
// trailing newline (LF or CRLF) that an editor adds. Any other byte counts.
func RawSecret(data []byte) []byte {
	if bytes.HasSuffix(data, []byte("\r\n")) {
		return data[:len(data)-2]
	}
	return bytes.TrimSuffix(data, []byte("\n"))
}
