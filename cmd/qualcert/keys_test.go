package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeysGenerate(t *testing.T) {
	for alg, files := range map[string][]string{
		"ES256":        {"private.pem", "private.jwk", "public.pem", "jwks.json"},
		"EdDSA":        {"private.pem", "private.jwk", "public.pem", "jwks.json"},
		"RSA-OAEP-256": {"private.pem", "private.jwk", "public.pem", "jwks.json"},
		"HS256":        {"secret", "secret.jwk"},
		"A256KW":       {"secret.jwk"},
	} {
		t.Run(alg, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "keys")
			code, stdout, stderr := run(t, "", "keys", "generate", "--alg", alg, "--out", out)
			if code != exitOK {
				t.Fatalf("exit %d %s", code, stderr)
			}
			for _, name := range files {
				st, err := os.Stat(filepath.Join(out, name))
				if err != nil {
					t.Fatal(err)
				}
				private := strings.HasPrefix(name, "private") || strings.HasPrefix(name, "secret")
				if private && st.Mode().Perm() != 0o600 {
					t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
				}
			}
			if strings.Contains(stdout, "BEGIN") {
				t.Fatal("key material printed on stdout")
			}
			if alg != "HS256" && alg != "A256KW" {
				var set struct {
					Keys []map[string]any `json:"keys"`
				}
				b, _ := os.ReadFile(filepath.Join(out, "jwks.json"))
				if err := json.Unmarshal(b, &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["alg"] != alg || set.Keys[0]["kid"] == "" || set.Keys[0]["d"] != nil {
					t.Fatalf("jwks.json %s", b)
				}
			}
			// never overwrite
			if code, _, _ := run(t, "", "keys", "generate", "--alg", alg, "--out", out); code != exitUsage {
				t.Fatalf("second run: exit %d, want 2 (files exist)", code)
			}
		})
	}
	for name, args := range map[string][]string{
		"no alg":      {"keys", "generate", "--out", t.TempDir()},
		"no out":      {"keys", "generate", "--alg", "ES256"},
		"bad alg":     {"keys", "generate", "--alg", "ES999", "--out", t.TempDir()},
		"unknown sub": {"keys", "rotate"},
	} {
		if code, _, _ := run(t, "", args...); code != exitUsage {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
	if code, out, _ := run(t, "", "keys", "generate", "--help"); code != exitOK || !strings.Contains(out, "jwks.json") {
		t.Errorf("--help: %d %s", code, out)
	}
}
