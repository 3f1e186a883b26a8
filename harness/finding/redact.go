package finding

import (
	"regexp"
	"strings"
)

// Shapes of secrets in free text. A JWT, or one of its base64url JSON
// segments alone (its payload carries the participant), starts with "eyJ",
// the encoding of `{"`; an e-mail address is the commonest participant
// value to end up in a console message or a URL.
var (
	jwtShape   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,4}`)
	emailShape = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
)

// RedactText replaces anything in s shaped like a token, a token segment or
// an e-mail address by "[redacted sha256:…]". It is the last line of
// defence of every output that carries free text (console messages, step
// errors, terminal progress, reports): producers are meant to write safe
// messages in the first place, with Fingerprint and field names.
func RedactText(s string) string {
	if !strings.Contains(s, "eyJ") && !strings.Contains(s, "@") {
		return s
	}
	mark := func(m string) string { return "[redacted " + Fingerprint(m) + "]" }
	s = jwtShape.ReplaceAllStringFunc(s, mark)
	return emailShape.ReplaceAllStringFunc(s, mark)
}
