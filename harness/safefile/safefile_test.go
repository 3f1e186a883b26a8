package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	small := filepath.Join(dir, "small")
	if err := os.WriteFile(small, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(small, link); err != nil {
		t.Fatal(err)
	}
	if b, err := Read(small, 1024); err != nil || string(b) != "hello" {
		t.Fatalf("small: %q %v", b, err)
	}
	if b, err := Read(link, 1024); err != nil || string(b) != "hello" {
		t.Fatalf("a symbolic link to a regular file is read: %q %v", b, err)
	}
	var tl *TooLargeError
	if _, err := Read(big, 1024); !errors.As(err, &tl) || !strings.Contains(err.Error(), "1 KiB") {
		t.Fatalf("big: %v", err)
	}
	for path, want := range map[string]string{fifo: "a FIFO", dir: "a directory", "/dev/zero": "a character device", "/dev/null": "a character device"} {
		done := make(chan error, 1)
		go func() { _, err := Read(path, 1024); done <- err }()
		select {
		case err := <-done:
			if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: %v, want %s refused", path, err, want)
			}
		case <-time.After(10 * time.Second): // a deadline of the test, not a timing assumption
			t.Fatalf("%s: Read blocked", path)
		}
	}
	if _, err := Read(filepath.Join(dir, "missing"), 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	if _, err := ReadAll(strings.NewReader(strings.Repeat("x", 11)), "stdin", 10); !errors.As(err, &tl) {
		t.Errorf("ReadAll over the cap: %v", err)
	}
}
