package verify

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/qualcert/qualcert/harness/finding"
)

func BenchmarkStages(b *testing.B) {
	k := genKey(b, "HS256", "k")
	cfg := baseConfig()
	cfg.SecretFile = writeSecret(b, k.Private.([]byte))
	v := newVerifier(b, cfg)
	tok := sign(b, goodClaims(), k)
	head := tok[:strings.IndexByte(tok, '.')]
	op, _ := v.openToken(context.Background(), tok)
	claims, _ := decodeObject(op.payload)
	b.Run("fingerprint", func(b *testing.B) {
		for b.Loop() {
			_ = fingerprint(tok)
		}
	})
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			_, _ = scanCompact(tok)
		}
	})
	b.Run("decodeHeader", func(b *testing.B) {
		for b.Loop() {
			_, _ = decodeHeader(head)
		}
	})
	b.Run("openToken", func(b *testing.B) {
		for b.Loop() {
			_, _ = v.openToken(context.Background(), tok)
		}
	})
	b.Run("claimsMap", func(b *testing.B) {
		for b.Loop() {
			_, _ = decodeObject(op.payload)
		}
	})
	b.Run("claimsMapEncodingJSON", func(b *testing.B) {
		for b.Loop() {
			var m map[string]any
			_ = json.Unmarshal(op.payload, &m)
		}
	})
	b.Run("claimsStruct", func(b *testing.B) {
		for b.Loop() {
			var c jwt.Claims
			_ = json.Unmarshal(op.payload, &c)
		}
	})
	b.Run("redact", func(b *testing.B) {
		for b.Loop() {
			_ = redactClaims(claims)
		}
	})
	b.Run("judgeClaims", func(b *testing.B) {
		for b.Loop() {
			r := &Result{}
			v.judgeClaims(context.Background(), r, op, Options{}, func(finding.Finding) {})
		}
	})
}
