package browser

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// A page can write console messages of any size (a framework dumping its
// state on every error, a hostile page logging megabytes in a loop), and
// Chromium sends each whole over the DevTools connection that every
// session shares. Decoded whole, 300 messages of 2 MB are 600 MB that
// go-rod parses twice and queues for every subscriber before a session
// reads a byte. So a console event over maxConsoleEvent is cut as it is
// read off the WebSocket, before anything decodes it: the connection keeps
// its first bytes (the text a reader and the token leak check need), drains
// the rest, and hands go-rod a small event of its own making that says
// how large the message was (cutMark in its context or url).
const (
	maxConsoleEvent = 64 << 10 // a console event larger than this is cut
	consoleKeep     = 32 << 10 // bytes of a cut event's text kept (a token of 16 KiB fits)
	sniffLen        = 128      // where Chromium names an event's method
	tailLen         = 1 << 10  // where Chromium names an event's session
)

// cutMark prefixes the byte count of a cut console event, in the event's
// context (Runtime.consoleAPICalled) or url (Runtime.exceptionThrown).
const cutMark = "qualcert.cut:"

var (
	methodConsole   = []byte(`"method":"Runtime.consoleAPICalled"`)
	methodException = []byte(`"method":"Runtime.exceptionThrown"`)
)

// readMessage reads one DevTools message from r, cutting a console event
// over maxConsoleEvent (see above). Any other message is read whole.
func readMessage(r io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := io.CopyN(&buf, r, maxConsoleEvent+1); err == io.EOF {
		return buf.Bytes(), nil // the whole message: most are small
	} else if err != nil {
		return nil, err
	}
	head := buf.Bytes()
	sniff := head[:sniffLen]
	console := bytes.Contains(sniff, methodConsole)
	if !console && !bytes.Contains(sniff, methodException) {
		rest, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		return append(head, rest...), nil
	}
	tail := &tailWriter{keep: tailLen}
	drained, err := io.Copy(tail, r)
	if err != nil {
		return nil, err
	}
	size := int64(len(head)) + drained
	return cutEvent(console, head[:consoleKeep], tail.buf, size), nil
}

// cutEvent builds the small event that stands for a console event of size
// bytes, of which head is the beginning and tail the end.
func cutEvent(console bool, head, tail []byte, size int64) []byte {
	mark := cutMark + strconv.FormatInt(size, 10)
	session := jsonString(tail, `"sessionId":"`)
	if session == "" {
		session = jsonString(head, `"sessionId":"`)
	}
	var params any
	method := "Runtime.consoleAPICalled"
	if console {
		typ := jsonString(head, `"type":"`) // the console call's type comes first in params
		if typ == "" {
			typ = "log"
		}
		var args []map[string]any
		for _, v := range jsonStrings(head, `"value":"`) {
			args = append(args, map[string]any{"type": "string", "value": v})
		}
		params = map[string]any{"type": typ, "args": args, "executionContextId": 0, "timestamp": 0, "context": mark}
	} else {
		method = "Runtime.exceptionThrown"
		text := jsonString(head, `"text":"`)
		if d := jsonString(head, `"description":"`); d != "" {
			text += " " + d
		}
		params = map[string]any{"timestamp": 0, "exceptionDetails": map[string]any{
			"exceptionId": 0, "text": text, "lineNumber": 0, "columnNumber": 0, "url": mark}}
	}
	out, err := json.Marshal(map[string]any{"method": method, "params": params, "sessionId": session})
	if err != nil { // cannot happen with strings and numbers; keep the stream going
		out = fmt.Appendf(nil, `{"method":%q,"params":{}}`, method)
	}
	return out
}

// cutSize returns the size a cut mark names (0: not cut).
func cutSize(s string) int {
	if len(s) <= len(cutMark) || s[:len(cutMark)] != cutMark {
		return 0
	}
	n, _ := strconv.Atoi(s[len(cutMark):])
	return n
}

// jsonString returns the decoded JSON string that follows the first key in
// b ("" when none), up to its closing quote or the end of b.
func jsonString(b []byte, key string) string {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return ""
	}
	s, _ := decodeString(b[i+len(key):])
	return s
}

// jsonStrings returns every decoded JSON string that follows key in b.
func jsonStrings(b []byte, key string) []string {
	var out []string
	for {
		i := bytes.Index(b, []byte(key))
		if i < 0 {
			return out
		}
		s, n := decodeString(b[i+len(key):])
		out = append(out, s)
		b = b[i+len(key)+n:]
	}
}

// decodeString decodes the JSON string body at the start of b (after its
// opening quote) up to the closing quote, or as much of it as b holds (a
// cut escape or UTF-8 sequence at the end is left out); n is the number of
// bytes consumed.
func decodeString(b []byte) (s string, n int) {
	var out []byte
	for n < len(b) {
		c := b[n]
		switch {
		case c == '"':
			return string(out), n + 1
		case c == '\\':
			if n+1 >= len(b) {
				return string(out), len(b)
			}
			switch e := b[n+1]; e {
			case 'u':
				if n+6 > len(b) {
					return string(out), len(b)
				}
				v, err := strconv.ParseUint(string(b[n+2:n+6]), 16, 32)
				if err != nil {
					v = utf8.RuneError
				}
				out = utf8.AppendRune(out, rune(v))
				n += 6
				continue
			case 'n':
				out = append(out, '\n')
			case 't':
				out = append(out, '\t')
			case 'r':
				out = append(out, '\r')
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			default: // \" \\ \/
				out = append(out, e)
			}
			n += 2
		default:
			out = append(out, c)
			n++
		}
	}
	// Cut: drop a trailing partial UTF-8 sequence.
	for i := 1; i <= utf8.UTFMax && i <= len(out); i++ {
		if start := len(out) - i; utf8.RuneStart(out[start]) {
			if !utf8.FullRune(out[start:]) {
				out = out[:start]
			}
			break
		}
	}
	return string(out), n
}

// tailWriter keeps the last keep bytes written to it.
type tailWriter struct {
	keep int
	buf  []byte
}

func (t *tailWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.keep {
		p = p[len(p)-t.keep:]
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*t.keep {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.keep:]...)
	}
	return n, nil
}
