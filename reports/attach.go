package reports

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// MaxAttachmentSize bounds what a report embeds from one attachment: a
// full-page screenshot is well under it.
const MaxAttachmentSize = 8 << 20

// readAttachment reads a's file from dir. The path must be relative and stay
// inside dir: an attachment path is data, and data never reads /etc/passwd.
func readAttachment(dir string, a Attachment) ([]byte, error) {
	p := filepath.FromSlash(a.Path)
	if a.Path == "" || filepath.IsAbs(p) || !filepath.IsLocal(p) {
		return nil, fmt.Errorf("attachment %q: path must be relative to the report dir", a.Path)
	}
	f, err := os.Open(filepath.Join(dir, p))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("attachment %q: no such file in the report folder", a.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("attachment %q: %w", a.Path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxAttachmentSize+1))
	if err != nil {
		return nil, fmt.Errorf("attachment %q: %w", a.Path, err)
	}
	if len(b) > MaxAttachmentSize {
		return nil, fmt.Errorf("attachment %q: over %d bytes, not embedded", a.Path, MaxAttachmentSize)
	}
	return b, nil
}

// isImage reports whether a media type can be shown in an <img>.
func isImage(mediaType string) bool {
	switch strings.ToLower(mediaType) {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return false
}
