package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileInputFiles: every file the CLI reads (profile, allow-list,
// claims, keys) is refused with exit 2 and a message naming it when it is
// a FIFO, a device or a directory, or oversized — without blocking on the
// FIFO nor reading /dev/zero without end.
func TestHostileInputFiles(t *testing.T) {
	f := newFixture(t)
	fifo := filepath.Join(f.dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(f.dir, "huge.json")
	if err := os.WriteFile(huge, []byte(`{"iss":"`+strings.Repeat("x", 2<<20)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(f.sig, "private.jwk")
	pub := filepath.Join(f.sig, "public.pem")
	tok := f.mint(t)
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"run --profile /dev/zero", []string{"run", "--profile", "/dev/zero"}, "a character device"},
		{"run --profile FIFO", []string{"run", "--profile", fifo}, "a FIFO"},
		// A folder is a fleet of profiles: one without any is a usage error.
		{"run --profile DIR", []string{"run", "--profile", f.dir}, "holds no profile"},
		{"run --allow /dev/zero", []string{"run", "--allow", "/dev/zero"}, "a character device"},
		{"run --allow FIFO", []string{"run", "--allow", fifo}, "a FIFO"},
		{"token mint --claims /dev/zero", []string{"token", "mint", "--claims", "/dev/zero", "--key", key}, "a character device"},
		{"token mint --claims FIFO", []string{"token", "mint", "--claims", fifo, "--key", key}, "a FIFO"},
		{"token mint --claims huge", []string{"token", "mint", "--claims", huge, "--key", key}, "larger than 1 MiB"},
		{"token mint --key FIFO", []string{"token", "mint", "--claims", f.claims, "--key", fifo}, "a FIFO"},
		{"token mint --key DIR", []string{"token", "mint", "--claims", f.claims, "--key", f.dir}, "a directory"},
		{"verify --key FIFO", []string{"verify", "--key", fifo, tok}, "a FIFO"},
		{"verify --jwks /dev/zero", []string{"verify", "--jwks", "/dev/zero", tok}, "a character device"},
		{"verify --secret-file DIR", []string{"verify", "--secret-file", f.dir, tok}, "a directory"},
		{"verify --decrypt-key FIFO", []string{"verify", "--key", pub, "--decrypt-key", fifo, tok}, "a FIFO"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			type res struct {
				code        int
				out, stderr string
			}
			done := make(chan res, 1)
			go func() {
				code, out, stderr := run(t, "", tc.args...)
				done <- res{code, out, stderr}
			}()
			select {
			case r := <-done:
				if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
					t.Fatalf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", r.code, exitUsage, tc.want, r.out, r.stderr)
				}
			case <-time.After(30 * time.Second): // the test's deadline: a blocked read never returns
				t.Fatal("blocked")
			}
		})
	}
}
