// Package safefile reads the files a user hands qualcert (profiles,
// expected-deviations files, claims, keys) with bounds: a size cap, and
// regular files only.
//
// A path that names a FIFO, a device, a socket or a directory is refused
// before it is opened for reading, so that `--profile /dev/zero` cannot
// exhaust memory and a key file that is a FIFO cannot block a run forever
// (an open of a FIFO waits for a writer, and no signal interrupts a read
// that Go does not poll). The file is opened non-blocking and checked again
// on its descriptor, so that a path swapped between the two checks is
// refused too.
//
//	data, err := safefile.Read(path, safefile.MaxProfile)
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Caps of the inputs qualcert reads. Each is far above any real file of
// its kind and far below what would hurt the machine.
const (
	MaxProfile = 1 << 20  // a profile (YAML or JSON)
	MaxAllow   = 1 << 20  // an expected-deviations file
	MaxClaims  = 1 << 20  // the claims of `token mint`
	MaxKey     = 1 << 20  // a key file: PEM, JWK, JWKS or a shared secret
	MaxToken   = 16 << 20 // a token read from a file or stdin
)

// ErrNotRegular is the error of a path that is not a regular file.
var ErrNotRegular = errors.New("not a regular file")

// TooLargeError is the error of a file over its cap.
type TooLargeError struct {
	Path string
	Max  int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than %s", e.Path, human(e.Max))
}

func human(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Check refuses a path that does not name a regular file (following
// symbolic links), without opening it.
func Check(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	return regular(path, st)
}

func regular(path string, st fs.FileInfo) error {
	if st.Mode().IsRegular() {
		return nil
	}
	return fmt.Errorf("%s: %w (it is %s)", path, ErrNotRegular, kind(st.Mode()))
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}

// Read returns the content of the regular file at path, or an error when
// it is not one or holds more than max bytes.
func Read(path string, max int64) ([]byte, error) {
	if err := Check(path); err != nil {
		return nil, err
	}
	// O_NONBLOCK: should the path have become a FIFO since Check, the open
	// returns at once instead of waiting for a writer.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(path, st); err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, &TooLargeError{Path: path, Max: max}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max { // grew while being read
		return nil, &TooLargeError{Path: path, Max: max}
	}
	return data, nil
}

// ReadAll reads at most max bytes of r (stdin), or fails.
func ReadAll(r io.Reader, what string, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &TooLargeError{Path: what, Max: max}
	}
	return data, nil
}
