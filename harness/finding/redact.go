package finding

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// FingerprintPrefix starts every fingerprint qualcert writes.
//
// A fingerprint is keyed: the first 12 hex digits of HMAC-SHA-256 under a
// key drawn at random when the process starts and never written anywhere.
// A bare hash of a low-entropy value (a birthday, a postcode, a phone
// number) is reversed by trying every candidate in seconds; a keyed one is
// not, because the key is gone when the run ends. The price is that
// fingerprints compare within one run only: the same token shows the same
// fingerprint everywhere in one report, and a different one in the next
// run. The prefix says "hmac", not "sha256": a reader who hashed a value
// to compare with an old-style sha256: fingerprint would otherwise find a
// mismatch and distrust the report.
const FingerprintPrefix = "hmac:"

// FingerprintNote is how reports explain fingerprints to their reader.
const FingerprintNote = "Values are shown as keyed fingerprints (hmac: and 12 hex digits of HMAC-SHA-256 under a random key of this run, never written): equal fingerprints in this report are equal values; fingerprints do not compare across runs."

// runKey is the fingerprint key of this process (one run).
var runKey = func() []byte {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic("finding: no randomness for the fingerprint key: " + err.Error())
	}
	return k
}()

// Fingerprint is how a secret or a participant value appears in reports and
// logs: FingerprintPrefix and 12 hex digits of its HMAC under the run's key.
func Fingerprint(s string) string {
	m := hmac.New(sha256.New, runKey)
	m.Write([]byte(s))
	var sum [sha256.Size]byte
	var out [len(FingerprintPrefix) + 12]byte
	copy(out[:], FingerprintPrefix)
	hex.Encode(out[len(FingerprintPrefix):], m.Sum(sum[:0])[:6])
	return string(out[:])
}

// IsFingerprint reports whether s is already a fingerprint (keyed, or the
// sha256: form of earlier versions).
func IsFingerprint(s string) bool {
	return fingerprintShape.MatchString(s)
}

var fingerprintShape = regexp.MustCompile(`^(?:hmac|sha256):[0-9a-f]{12}$`)

// Shapes of secrets in free text. A JWT, or one of its base64url JSON
// segments alone (its payload carries the participant), starts with the
// encoding of `{"` ("eyJ"), or of `{` and white space ("eyA", "ewo",
// "ewk", "ew0") when its JSON was written with a space or a line break; an
// e-mail address is the commonest participant value to end up in a
// console message or a URL.
var (
	jwtShape   = regexp.MustCompile(`(?:eyJ|eyA|ewo|ewk|ew0)[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]*){0,4}`)
	emailShape = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
)

// secrets are the tokens and participant values seen in this run (see
// NoteSecret), and the matcher built from them.
var secrets struct {
	sync.Mutex
	values map[string]string // lower-cased form → the value it encodes
	re     *regexp.Regexp    // nil when stale or empty
	snap   map[string]string // the values re was built from (read without the lock)
	built  bool
}

// minSecret is the shortest value scrubbed: shorter ones ("M", "FR") would
// mangle ordinary words.
const minSecret = 3

// maxSecrets and maxSecretLen bound the registry: a page cannot grow it
// without end (a longer token is still caught by its shape).
const (
	maxSecrets   = 4096
	maxSecretLen = 32 << 10
)

// NoteSecret records a value that must never be written anywhere in this
// run: a token, a participant value, an access token, a session cookie, a
// password. Every later RedactText scrubs it in every form it may take in
// free text: as written, upper- and lower-case, URL-encoded, base64 and
// base64url (with and without padding), and, for a token, each of its
// segments. Outputs are redacted at write time, so a value the page logged
// before its token was verified is scrubbed once the run has seen it.
func NoteSecret(v string) {
	v = strings.TrimSpace(v)
	if len(v) < minSecret || len(v) > maxSecretLen {
		return
	}
	forms := []string{v}
	if strings.Count(v, ".") >= 2 { // a compact JWS or JWE: each segment too
		for _, seg := range strings.Split(v, ".") {
			if len(seg) >= 8 {
				forms = append(forms, seg)
			}
		}
	}
	secrets.Lock()
	defer secrets.Unlock()
	if secrets.values == nil {
		secrets.values = map[string]string{}
	}
	for _, f := range forms {
		for _, g := range encodings(f) {
			g = strings.ToLower(g)
			if _, dup := secrets.values[g]; !dup && len(g) >= minSecret && len(secrets.values) < maxSecrets {
				secrets.values[g] = f
				secrets.built = false
			}
		}
	}
}

// encodings are the forms a value takes in URLs, headers and logs.
func encodings(v string) []string {
	b := []byte(v)
	return []string{
		v,
		url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString(b), base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b),
	}
}

// secretMatcher returns the matcher of every noted value (case-insensitive,
// whole words: "Ann" does not eat "Announcement"), or nil, and the value
// each lower-cased form stands for.
func secretMatcher() (*regexp.Regexp, map[string]string) {
	secrets.Lock()
	defer secrets.Unlock()
	if secrets.built {
		return secrets.re, secrets.snap
	}
	vals := make([]string, 0, len(secrets.values))
	secrets.snap = make(map[string]string, len(secrets.values))
	for v, orig := range secrets.values {
		vals = append(vals, v)
		secrets.snap[v] = orig
	}
	// longest first, so that a value is replaced whole before a part of it
	sort.Slice(vals, func(i, j int) bool {
		if len(vals[i]) != len(vals[j]) {
			return len(vals[i]) > len(vals[j])
		}
		return vals[i] < vals[j]
	})
	secrets.re, secrets.built = nil, true
	if len(vals) > 0 {
		for i, v := range vals {
			vals[i] = regexp.QuoteMeta(v)
		}
		// A URL-encoded separator ("%2C" in "a%2Cvalue") is a boundary too.
		secrets.re = regexp.MustCompile(`(?i)(^|[^\pL\pN]|%[0-9a-f]{2})(` + strings.Join(vals, "|") + `)($|[^\pL\pN])`)
	}
	return secrets.re, secrets.snap
}

// ForgetSecrets empties the registry (for tests that need a clean run).
func ForgetSecrets() {
	secrets.Lock()
	secrets.values, secrets.re, secrets.snap, secrets.built = nil, nil, nil, false
	secrets.Unlock()
}

// RedactText replaces, in s, every value noted with NoteSecret (in any of
// its forms) and anything shaped like a token, a token segment or an
// e-mail address by "[redacted hmac:…]". It is the last line of defence
// of every output that carries free text (console messages, dialogs, URLs,
// step errors, terminal progress, reports, `verify`): producers are meant
// to write safe messages in the first place, with Fingerprint and field
// names.
func RedactText(s string) string {
	if s == "" {
		return s
	}
	mark := func(m string) string { return "[redacted " + Fingerprint(m) + "]" }
	if re, values := secretMatcher(); re != nil {
		// The boundaries are matched too: replace until nothing is left,
		// so that two adjacent values separated by one character both go.
		// The mark is the fingerprint of the value, whatever form it took.
		for i := 0; i < 4 && re.MatchString(s); i++ {
			s = re.ReplaceAllStringFunc(s, func(m string) string {
				sub := re.FindStringSubmatch(m)
				v, ok := values[strings.ToLower(sub[2])]
				if !ok {
					v = sub[2]
				}
				return sub[1] + mark(v) + sub[3]
			})
		}
	}
	if !strings.Contains(s, "ey") && !strings.Contains(s, "ew") && !strings.Contains(s, "@") {
		return s
	}
	s = jwtShape.ReplaceAllStringFunc(s, mark)
	return emailShape.ReplaceAllStringFunc(s, mark)
}

// publicHeader are the JOSE header members shown in clear when they have
// the shape of a name: they say how the token is built, not who it is for.
var publicHeader = map[string]bool{"alg": true, "enc": true, "typ": true, "cty": true, "zip": true, "kid": true, "crit": true}

// RedactHeader returns a copy of a decoded JOSE header fit for output:
// alg, enc, typ, cty, zip, kid and crit stay readable (scrubbed as free
// text: a kid can be an e-mail address), every other member's values are
// fingerprinted (a header may carry anything, a participant's address
// included).
func RedactHeader(h map[string]any) map[string]any {
	if h == nil {
		return nil
	}
	out := make(map[string]any, len(h))
	for k, v := range h {
		if publicHeader[k] {
			out[k] = redactLeaves(v, false)
		} else {
			out[k] = redactLeaves(v, true)
		}
	}
	return out
}

func redactLeaves(v any, secret bool) any {
	switch x := v.(type) {
	case string:
		if secret && !IsFingerprint(x) {
			return Fingerprint(x)
		}
		return RedactText(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redactLeaves(e, secret)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactLeaves(e, secret)
		}
		return out
	}
	return v
}
