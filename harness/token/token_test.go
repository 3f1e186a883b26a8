package token

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

func TestSignRoundTrip(t *testing.T) {
	claims := map[string]any{"sub": "42", "campaignId": "1"}
	for _, alg := range []string{"RS256", "PS256", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384", "HS512"} {
		k, err := Generate(alg, "kid-"+alg)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := Sign(claims, k, SignOptions{})
		if err != nil {
			t.Fatal(err)
		}
		obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		var verifyKey any = k.Public()
		if verifyKey == nil {
			verifyKey = k.Private
		}
		payload, err := obj.Verify(verifyKey)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		var got map[string]any
		_ = json.Unmarshal(payload, &got)
		h := obj.Signatures[0].Header
		if got["sub"] != "42" || h.KeyID != "kid-"+alg || h.ExtraHeaders["typ"] != "JWT" {
			t.Fatalf("%s: payload %v header %+v", alg, got, h)
		}
		if _, err := obj.Verify(verifyKey); err != nil {
			t.Fatal(err)
		}
		tampered, err := jose.ParseSignedCompact(Tamper(tok), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			t.Fatalf("%s: tampered token no longer parses: %v", alg, err)
		}
		if _, err := tampered.Verify(verifyKey); err == nil {
			t.Fatalf("%s: Tamper left a valid signature", alg)
		}
	}
}

func TestSignOptions(t *testing.T) {
	k, _ := Generate("ES256", "k")
	tok, err := Sign(map[string]any{}, k, SignOptions{Typ: "-", NoKID: true, ExtraHeads: map[string]string{"x-test": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	head, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	var h map[string]any
	_ = json.Unmarshal(head, &h)
	if _, has := h["typ"]; has || h["kid"] != nil || h["x-test"] != "1" {
		t.Fatalf("header %v", h)
	}
}

func TestNestedAndDirect(t *testing.T) {
	sig, _ := Generate("ES256", "s")
	for _, alg := range []string{"RSA-OAEP-256", "ECDH-ES+A256KW", "A256KW"} {
		enc, err := Generate(alg, "e")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := Nested(map[string]any{"sub": "1"}, sig, enc, jose.A256GCM)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := jose.ParseEncryptedCompact(tok, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			t.Fatal(err)
		}
		if obj.Header.ExtraHeaders["cty"] != "JWT" {
			t.Fatalf("%s: cty %v", alg, obj.Header.ExtraHeaders["cty"])
		}
		inner, err := obj.Decrypt(enc.Private)
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		if strings.Count(string(inner), ".") != 2 {
			t.Fatalf("%s: inner is not a JWS", alg)
		}
	}
	dir, err := DirKey(jose.A128GCM, "d")
	if err != nil || len(dir.Private.([]byte)) != 16 {
		t.Fatalf("DirKey: %v", err)
	}
	if _, err := DirKey("A999", ""); err == nil {
		t.Fatal("DirKey accepted an unknown enc")
	}
	if _, err := Generate("none", ""); err == nil {
		t.Fatal("Generate accepted none")
	}
}

func TestUnsigned(t *testing.T) {
	tok, err := Unsigned(map[string]any{"sub": "1"}, "nOnE")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	if len(parts) != 3 || parts[2] != "" || !strings.Contains(string(head), `"alg":"nOnE"`) {
		t.Fatalf("token %q", tok)
	}
	if Tamper(tok) != tok {
		t.Fatal("Tamper changed a token without signature")
	}
}
