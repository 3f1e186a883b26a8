package browser

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-rod/rod/lib/proto"
)

// consoleEvent is a Runtime.consoleAPICalled message as Chromium writes it.
func consoleEvent(t *testing.T, typ string, args []string, session string) []byte {
	t.Helper()
	var objs []map[string]any
	for _, a := range args {
		objs = append(objs, map[string]any{"type": "string", "value": a})
	}
	// Chromium's field order: method, params, sessionId.
	params, _ := json.Marshal(map[string]any{"type": typ, "args": objs, "executionContextId": 3, "timestamp": 1.5e12})
	return []byte(`{"method":"Runtime.consoleAPICalled","params":` + string(params) + `,"sessionId":"` + session + `"}`)
}

func TestReadMessageCutsHugeConsoleEvents(t *testing.T) {
	tok := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2ln"
	big := strings.Repeat("x", 2<<20)
	cases := []struct {
		name     string
		msg      []byte
		cut      bool
		wantText []string // in the decoded console text
	}{
		{"small console event", consoleEvent(t, "error", []string{"oops", tok}, "S1"), false, []string{"oops " + tok}},
		{"2 MiB console error", consoleEvent(t, "error", []string{"state " + tok + " " + big}, "S1"), true, []string{"state " + tok + " xxx"}},
		{"escapes and UTF-8 at the cut", consoleEvent(t, "warning", []string{strings.Repeat("é\"\\\n😀", 40000)}, "S2"), true, []string{"é\"\\\n😀é"}},
		{"2 MiB exception", []byte(`{"method":"Runtime.exceptionThrown","params":{"timestamp":1,"exceptionDetails":{"exceptionId":1,"text":"Uncaught","lineNumber":1,"columnNumber":1,"exception":{"type":"object","description":"Error: ` + tok + big + `"}}},"sessionId":"S3"}`), true, []string{"Uncaught Error: " + tok}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := readMessage(bytes.NewReader(c.msg))
			if err != nil {
				t.Fatal(err)
			}
			if !c.cut {
				if !bytes.Equal(got, c.msg) {
					t.Fatalf("a message under the bound was changed")
				}
				return
			}
			if len(got) > consoleKeep+4096 {
				t.Fatalf("cut message is %d bytes", len(got))
			}
			var ev struct {
				Method    string          `json:"method"`
				Params    json.RawMessage `json:"params"`
				SessionID string          `json:"sessionId"`
			}
			if err := json.Unmarshal(got, &ev); err != nil {
				t.Fatalf("cut message is not JSON: %v\n%.300s", err, got)
			}
			var in struct {
				SessionID string `json:"sessionId"`
			}
			_ = json.Unmarshal(c.msg, &in)
			if ev.SessionID != in.SessionID {
				t.Errorf("session %q, want %q", ev.SessionID, in.SessionID)
			}
			var text string
			var size int
			switch ev.Method {
			case "Runtime.consoleAPICalled":
				var e proto.RuntimeConsoleAPICalled
				if err := json.Unmarshal(ev.Params, &e); err != nil {
					t.Fatal(err)
				}
				for _, a := range e.Args {
					text += remoteText(a)
				}
				size = cutSize(e.Context)
				if string(e.Type) == "" {
					t.Error("no console type")
				}
			case "Runtime.exceptionThrown":
				var e proto.RuntimeExceptionThrown
				if err := json.Unmarshal(ev.Params, &e); err != nil {
					t.Fatal(err)
				}
				text = e.ExceptionDetails.Text
				size = cutSize(e.ExceptionDetails.URL)
			default:
				t.Fatalf("method %q", ev.Method)
			}
			if size != len(c.msg) {
				t.Errorf("cut size %d, want %d", size, len(c.msg))
			}
			for _, w := range c.wantText {
				if !strings.HasPrefix(text, w) {
					t.Errorf("text %.80q…, want it to start with %.80q", text, w)
				}
			}
		})
	}
}

func TestReadMessageKeepsLargeAnswersWhole(t *testing.T) {
	// A screenshot, a request body, an evaluation: read whole.
	for _, msg := range []string{
		`{"id":7,"result":{"data":"` + strings.Repeat("A", 3<<20) + `"}}`,
		`{"method":"Network.requestWillBeSent","params":{"request":{"postData":"` + strings.Repeat("t", 1<<20) + `"}},"sessionId":"S"}`,
	} {
		got, err := readMessage(strings.NewReader(msg))
		if err != nil || string(got) != msg {
			t.Fatalf("message of %d bytes read as %d bytes (%v)", len(msg), len(got), err)
		}
	}
}

// BenchmarkConsoleEvent: what the harness's side of the connection spends
// on one 2 MiB console error, read whole and decoded as go-rod and the
// session do (validity check, go-rod's two passes, the session's decode)
// against cut as it is read.
func BenchmarkConsoleEvent(b *testing.B) {
	msg := consoleEvent(&testing.T{}, "error", []string{"state dump: " + strings.Repeat("x", 2<<20)}, "S1")
	decode := func(raw []byte) int {
		if !json.Valid(raw) {
			b.Fatal("invalid")
		}
		var id struct {
			ID int `json:"id"`
		}
		var ev struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		var e proto.RuntimeConsoleAPICalled
		if json.Unmarshal(raw, &id) != nil || json.Unmarshal(raw, &ev) != nil || json.Unmarshal(ev.Params, &e) != nil {
			b.Fatal("decode")
		}
		return len(remoteText(e.Args[0]))
	}
	b.Run("whole", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			decode(msg)
		}
	})
	b.Run("cut", func(b *testing.B) {
		b.SetBytes(int64(len(msg)))
		for b.Loop() {
			raw, err := readMessage(bytes.NewReader(msg))
			if err != nil {
				b.Fatal(err)
			}
			decode(raw)
		}
	})
}
