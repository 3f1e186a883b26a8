package kit

import (
	"net/url"
	"strings"
)

// Internal reports whether rawURL is one of the reference campaign's own
// calls to the harness (/__qualcert/verify, /__qualcert/event): qualcert's
// traffic, not the page's, left out of the page load's HAR.
func Internal(rawURL string) bool {
	u, err := url.Parse(rawURL)
	return err == nil && strings.HasPrefix(u.Path, "/__qualcert/")
}
