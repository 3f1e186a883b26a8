package verify

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// jsonObjectCases are the documents where a fast decoder would most likely
// part ways with encoding/json.
var jsonObjectCases = []string{
	`{}`, ` {} `, "\t{\n}\r\n", `{"a":1}`, `{"a":[]}`, `{"a":{}}`, `{"a":[1,"x",true,false,null,{"b":[]}]}`,
	`{"iss":"example-media","sub":"user-42","iat":1799999990,"form":{"email":"ada@example.com"}}`,
	`{"a":1,"a":2}`, `{"a":{"x":1},"a":"y"}`, // repeated names: the last wins
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

// sameAsEncodingJSON fails the test unless decodeObject accepts what
// json.Unmarshal accepts, with the same map, and the fast path, when it
// answers, agrees. (On an error the verifier refuses and drops the map.)
func sameAsEncodingJSON(t *testing.T, doc string) {
	t.Helper()
	var want map[string]any
	wantErr := json.Unmarshal([]byte(doc), &want)
	got, gotErr := decodeObject([]byte(doc))
	if (wantErr == nil) != (gotErr == nil) || wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decodeObject = %#v, %v; json.Unmarshal = %#v, %v", doc, got, gotErr, want, wantErr)
	}
	if fast, ok := decodeJSONFast(doc); ok && (wantErr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("%q: the fast path accepted %#v; json.Unmarshal = %#v, %v", doc, fast, want, wantErr)
	}
}

func TestDecodeObjectMatchesEncodingJSON(t *testing.T) {
	for _, doc := range jsonObjectCases {
		sameAsEncodingJSON(t, doc)
	}
}

// The fast path must actually serve the tokens qualcert sees, or it is dead
// weight: it answers for ordinary headers and claims, escapes included.
func TestDecodeObjectFastPathServesTokens(t *testing.T) {
	payload, err := json.Marshal(goodClaims())
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range []string{string(payload), `{"alg":"ES256","kid":"k","typ":"JWT"}`,
		`{"iss":"https:\/\/media.example\/","name":"Zo\u00eb","city":"Li\u00e8ge"}`} {
		if _, ok := decodeJSONFast(doc); !ok {
			t.Errorf("the fast path gave up on %s", doc)
		}
		sameAsEncodingJSON(t, doc)
	}
}

func FuzzDecodeObject(f *testing.F) {
	for _, doc := range jsonObjectCases {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		sameAsEncodingJSON(t, doc)
	})
}
