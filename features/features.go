// Package features holds qualcert's Gherkin suites, embedded in the binary so
// that `qualcert run` needs no file on disk:
//
//   - certification/ is the certification suite: it is run against the page a
//     publisher's profile names and states, in plain words, what a correct
//     integration of "share information at the campaign load" does (the tag,
//     setMetaData before getMetaData, the token, the participant data, the
//     unhappy flows, security).
//   - reference/ is the reference suite: it states Qualifio's documented
//     behaviour and runs against the variants of the embedded demo publisher
//     (harness/demo), good and faulty, so that `go test ./...` proves the
//     harness judges each documented flow the way the documentation says.
//
// The step definitions live in package steps (`qualcert steps` lists them);
// a publisher can write feature files of their own with the same steps and
// add them to the certification suite with `qualcert run --features DIR`
// (WithOwn), or run them alone with --features-only. `qualcert features
// export DIR` writes these suites out (Export) to read or start from.
package features

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

//go:embed certification/*.feature reference/*.feature
var files embed.FS

// FS is the embedded suites; paths are "certification/…" and "reference/…".
var FS fs.FS = files

// Folders of FS.
const (
	Certification = "certification"
	Reference     = "reference"
)

// WithOwn returns one file system holding the certification suite and the
// publisher's own feature files (own, mounted under name), and the paths to
// run in it: `qualcert run --features DIR` adds DIR's scenarios to the
// built-in ones this way. name must not be a folder of FS.
func WithOwn(name string, own fs.FS) (fs.FS, []string, error) {
	if name == Certification || name == Reference || !fs.ValidPath(name) || strings.Contains(name, "/") || name == "." {
		return nil, nil, fmt.Errorf("features: cannot mount the own features at %q", name)
	}
	copies, err := Copies(own)
	if err != nil {
		return nil, nil, err
	}
	if len(copies) > 0 {
		return nil, nil, fmt.Errorf("%s holds copies of built-in feature files (%s), whose scenarios already run: remove them, or run that folder alone with --features-only", name, strings.Join(copies, ", "))
	}
	return mounts{Certification: mustSub(FS, Certification), name: own}, []string{Certification, name}, nil
}

// Copies lists the feature files of fsys that are byte-for-byte copies of a
// built-in one (as `qualcert features export` writes them).
func Copies(fsys fs.FS) ([]string, error) {
	builtin := map[string]bool{}
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(FS, p)
		builtin[string(b)] = true
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []string
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading the feature files: %w", err)
		}
		if d.IsDir() || !strings.HasSuffix(p, ".feature") {
			return nil
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("reading the feature files: %w", err)
		}
		if builtin[string(b)] {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Export writes the built-in suites into dir (dir/certification/…,
// dir/reference/…), creating it; it never overwrites a file and returns the
// paths written.
func Export(dir string) ([]string, error) {
	var files []string
	if err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	}); err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f))); err == nil {
			return nil, fmt.Errorf("%s already exists: export into an empty folder", filepath.Join(dir, filepath.FromSlash(f)))
		}
	}
	var written []string
	for _, f := range files {
		b, err := fs.ReadFile(FS, f)
		if err != nil {
			return written, err
		}
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return written, fmt.Errorf("exporting the features: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return written, fmt.Errorf("exporting the features: %w", err)
		}
		written = append(written, dst)
	}
	return written, nil
}

// mounts is a read-only file system made of others, each under a name.
type mounts map[string]fs.FS

func (m mounts) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	first, rest, _ := strings.Cut(name, "/")
	sub, ok := m[first]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	if rest == "" {
		rest = "."
	}
	return sub.Open(rest)
}

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err) // a constant folder of the embedded FS
	}
	return sub
}
