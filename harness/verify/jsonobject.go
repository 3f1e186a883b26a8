package verify

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// decodeObject decodes a JSON object (a header or a claims set) into a map,
// with exactly the result and the errors of json.Unmarshal into a
// map[string]any: the verifier's verdicts do not depend on which path ran.
//
// Why not json.Unmarshal alone: on a token's few hundred bytes it costs
// about as much as go-jose's whole parse, because it validates the input in
// a first pass and then decodes it through a byte-at-a-time state machine,
// allocating every string on its own. decodeJSONFast below is a single-pass
// recursive-descent decoder for the shapes tokens carry; every string
// without escapes is a substring of one copy of the input. It handles only
// what it can decode exactly as encoding/json does and gives up on
// anything else (syntax errors, invalid UTF-8, surrogate escapes, numbers
// out of range, deep nesting, a top level that is not an object), which
// json.Unmarshal then decodes or refuses with its own error. FuzzDecodeObject
// holds the two paths to the same answers.
func decodeObject(data []byte) (map[string]any, error) {
	doc := string(data) // the one copy: data may live on the caller's stack
	if m, ok := decodeJSONFast(doc); ok {
		return m, nil
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return nil, err
	}
	return m, nil
}

// maxFastDepth bounds the fast decoder's recursion; deeper documents go to
// encoding/json (whose own limit is 10000).
const maxFastDepth = 32

type jsonScanner struct {
	s     string
	i     int
	depth int
}

// decodeJSONFast returns the object doc holds and true, or false when
// encoding/json must decide.
func decodeJSONFast(doc string) (map[string]any, bool) {
	d := jsonScanner{s: doc}
	d.space()
	if d.i >= len(d.s) || d.s[d.i] != '{' {
		return nil, false
	}
	m, ok := d.object()
	if !ok {
		return nil, false
	}
	d.space()
	if d.i != len(d.s) {
		return nil, false
	}
	return m, true
}

func (d *jsonScanner) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonScanner) value() (any, bool) {
	if d.i >= len(d.s) {
		return nil, false
	}
	switch c := d.s[d.i]; {
	case c == '{':
		m, ok := d.object()
		return m, ok
	case c == '[':
		return d.array()
	case c == '"':
		return d.str()
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, false
}

func (d *jsonScanner) literal(word string) bool {
	if len(d.s)-d.i < len(word) || d.s[d.i:d.i+len(word)] != word {
		return false
	}
	d.i += len(word)
	return true
}

// object decodes {...} at d.i.
func (d *jsonScanner) object() (map[string]any, bool) {
	if d.depth++; d.depth > maxFastDepth {
		return nil, false
	}
	d.i++ // '{'
	m := make(map[string]any)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		d.depth--
		return m, true
	}
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, false
		}
		k, ok := d.str()
		if !ok {
			return nil, false
		}
		d.space()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, false
		}
		d.i++
		d.space()
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		m[k] = v // a repeated name keeps its last value, as in encoding/json
		more, ok := d.sep('}')
		if !ok {
			return nil, false
		}
		if !more {
			return m, true
		}
	}
}

// sep reads what follows an object member or an array element: ',' (more to
// come) or the closing byte (the container ends, one level up).
func (d *jsonScanner) sep(closing byte) (more, ok bool) {
	d.space()
	if d.i >= len(d.s) {
		return false, false
	}
	switch d.s[d.i] {
	case ',':
		d.i++
		d.space()
		return true, true
	case closing:
		d.i++
		d.depth--
		return false, true
	}
	return false, false
}

// array decodes [...] at d.i; an empty array is a non-nil empty slice, as
// in encoding/json.
func (d *jsonScanner) array() (any, bool) {
	if d.depth++; d.depth > maxFastDepth {
		return nil, false
	}
	d.i++ // '['
	a := make([]any, 0)
	d.space()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		d.depth--
		return a, true
	}
	for {
		v, ok := d.value()
		if !ok {
			return nil, false
		}
		a = append(a, v)
		more, ok := d.sep(']')
		if !ok {
			return nil, false
		}
		if !more {
			return a, true
		}
	}
}

// str decodes the string at d.i (on its opening quote). A string without
// escapes is returned as a substring of the input when it is valid UTF-8
// (encoding/json would replace invalid bytes with U+FFFD: that is left to
// it). Escapes are decoded except \u surrogates, left to encoding/json.
func (d *jsonScanner) str() (string, bool) {
	d.i++ // opening quote
	start, ascii := d.i, true
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			out := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(out) {
				return "", false
			}
			return out, true
		case c == '\\':
			return d.escapedStr(start)
		case c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return "", false
}

// escapedStr finishes a string that holds an escape, d.i on the first one.
func (d *jsonScanner) escapedStr(start int) (string, bool) {
	buf := make([]byte, 0, d.i-start+16)
	buf = append(buf, d.s[start:d.i]...)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(buf) {
				return "", false
			}
			return string(buf), true
		case c < 0x20:
			return "", false
		case c != '\\':
			buf = append(buf, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.s) {
			return "", false
		}
		esc := d.s[d.i+1]
		d.i += 2
		switch esc {
		case '"', '\\', '/':
			buf = append(buf, esc)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			if len(d.s)-d.i < 4 {
				return "", false
			}
			r, ok := hex4(d.s[d.i : d.i+4])
			if !ok || 0xd800 <= r && r < 0xe000 {
				return "", false // surrogates: encoding/json's pairing rules decide
			}
			d.i += 4
			buf = utf8.AppendRune(buf, r)
		default:
			return "", false
		}
	}
	return "", false
}

// number decodes a JSON number at d.i as encoding/json does for an any: a
// float64 from strconv.ParseFloat, whose range errors are left to
// encoding/json to report.
func (d *jsonScanner) number() (any, bool) {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.i < len(d.s) && '1' <= d.s[d.i] && d.s[d.i] <= '9':
		d.digits()
	default:
		return nil, false
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, false
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, false
		}
	}
	f, err := strconv.ParseFloat(d.s[start:d.i], 64)
	if err != nil {
		return nil, false
	}
	return f, true
}

// digits skips one or more decimal digits and reports whether there was one.
func (d *jsonScanner) digits() bool {
	start := d.i
	for d.i < len(d.s) && '0' <= d.s[d.i] && d.s[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

// hex4 decodes the four hex digits of a \u escape.
func hex4(s string) (rune, bool) {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
