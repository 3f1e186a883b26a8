package verify

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// jsonObjectCases are the documents where a strict decoder and
// encoding/json would most likely part ways.
var jsonObjectCases = []string{
	`{}`, ` {} `, "\t{\n}\r\n", `{"a":1}`, `{"a":[]}`, `{"a":{}}`, `{"a":[1,"x",true,false,null,{"b":[]}]}`,
	`{"iss":"example-media","sub":"user-42","iat":1799999990,"form":{"email":"ada@example.com"}}`,
	`{"a":1,"a":2}`, `{"a":{"x":1},"a":"y"}`, `{"f":{"e":1,"e":2}}`, `{"a":[{"x":1,"x":2}]}`, `{"\u0061":1,"a":2}`,
	`{"n":-0}`, `{"n":0.5}`, `{"n":1E+2}`, `{"n":1e-2}`, `{"n":-12.5e3}`, `{"n":1e400}`, `{"n":-1e400}`, `{"n":1e-400}`,
	`{"n":01}`, `{"n":1.}`, `{"n":.5}`, `{"n":+1}`, `{"n":-}`, `{"n":1e}`, `{"n":0x10}`, `{"n":1_000}`, `{"n":Infinity}`, `{"n":NaN}`,
	`{"s":"a\"b\\c\/d\be\ff\ng\rh\ti"}`, `{"s":"\u00e9\u0041\u20ac\u0000"}`, `{"s":"\uD83D\uDE00"}`, `{"s":"\uD83D"}`, `{"s":"\uDE00x"}`,
	`{"s":"\u12"}`, `{"s":"\u12G4"}`, `{"s":"\x"}`, `{"s":"\'"}`, `{"s":"tab	inside"}`, "{\"s\":\"nul\x00\"}",
	"{\"s\":\"caf\xc3\xa9\"}", "{\"s\":\"bad\xff\"}", "{\"s\":\"\xed\xa0\x80\"}", "{\"s\":\"\xef\xbf\xbd\"}", "{\"bad\xfekey\":1}",
	"{\"s\":\"caf\xc3\xa9\\n\"}", "{\"s\":\"bad\xff\\n\"}",
	`{"a":tru}`, `{"a":nul}`, `{"a":true `, `{"a" 1}`, `{"a":1,}`, `{,"a":1}`, `{"a":1}x`, `{"a":1}{}`, `{a:1}`, `{'a':1}`, `{"a":[1,]}`, `{"a":[,1]}`,
	`null`, ` null `, `[]`, `"x"`, `1`, `true`, ``, ` `, `{`, `{"`, `{"a`, `{"a"`, `{"a":`, `{"a":"`, `{"a":[`, `{"a":{`,
	"\ufeff{}", "{}\x00",
	"{\"a\":" + strings.Repeat("[", 40) + strings.Repeat("]", 40) + "}",
	"{\"a\":" + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + "}",
	"{\"a\":" + strings.Repeat(`{"b":`, 40) + "1" + strings.Repeat("}", 40) + "}",
}

// stricterThanEncodingJSON fails the test unless decodeObject is
// encoding/json without its leniencies: what it accepts, json.Unmarshal
// accepts with the same map; what it refuses and json.Unmarshal accepts is a
// repeated member name (reported as such), invalid UTF-8 or a lone
// surrogate escape (\uD83D), which json.Unmarshal silently replaces with
// U+FFFD.
func stricterThanEncodingJSON(t *testing.T, doc string) {
	t.Helper()
	var want map[string]any
	wantErr := json.Unmarshal([]byte(doc), &want)
	got, gotErr := decodeObject([]byte(doc))
	switch {
	case gotErr == nil && wantErr != nil:
		t.Fatalf("%q: decodeObject accepted %#v; json.Unmarshal refuses: %v", doc, got, wantErr)
	case gotErr == nil && !reflect.DeepEqual(got, want):
		t.Fatalf("%q: decodeObject = %#v; json.Unmarshal = %#v", doc, got, want)
	case gotErr != nil && wantErr == nil:
		_, dup := isDuplicateName(gotErr)
		badUnicode := !utf8.ValidString(doc) || strings.Contains(gotErr.Error(), "surrogate")
		if !dup && !badUnicode {
			t.Fatalf("%q: decodeObject refuses valid Unicode without a repeated name (%v); json.Unmarshal = %#v", doc, gotErr, want)
		}
	}
}

func TestDecodeObjectIsStrictEncodingJSON(t *testing.T) {
	for _, doc := range jsonObjectCases {
		stricterThanEncodingJSON(t, doc)
	}
}

// Repeated names are refused wherever they are, and named by their JSON
// Pointer (names only: never a value).
func TestDecodeObjectRefusesRepeatedNames(t *testing.T) {
	for doc, want := range map[string]string{
		`{"iss":"attacker","sub":"1","iss":"demo-media"}`:        "/iss",
		`{"form":{"email":"a@x.example","email":"b@x.example"}}`: "/form/email",
		`{"a":[{"x":1,"x":2}]}`:                                  "/a/0/x",
		`{"\u0061":1,"a":2}`:                                     "/a",
	} {
		_, err := decodeObject([]byte(doc))
		ptr, dup := isDuplicateName(err)
		if !dup || ptr != want {
			t.Errorf("%s: got %v (pointer %q), want a repeated name at %s", doc, err, ptr, want)
		}
		if strings.Contains(err.Error(), "x.example") || strings.Contains(err.Error(), "attacker") {
			t.Errorf("%s: the error quotes a value: %v", doc, err)
		}
	}
}

func FuzzDecodeObject(f *testing.F) {
	for _, doc := range jsonObjectCases {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		stricterThanEncodingJSON(t, doc)
	})
}
