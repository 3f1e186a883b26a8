package verify

import (
	"errors"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeObject decodes a JSON object (a JOSE header or a claims set) into a
// map with the strict parser of encoding/json/v2 (the go-json-experiment
// module, which Go 1.27 makes the standard library's encoding/json/v2):
// numbers become float64, objects map[string]any, arrays []any, as with
// encoding/json, but a member name given twice, invalid UTF-8 and anything
// RFC 8259 does not allow are errors. A repeated name is the reason a strict
// verifier cannot use encoding/json: it keeps the last member, other
// receivers keep the first, so `{"iss":"attacker",…,"iss":"demo-media"}`
// would mean two different things (RFC 7515 §4, RFC 7519 §4: such a token
// must be refused). errDuplicateName tells that case apart, so the caller
// reports it with its own code.
//
// The verifier used a hand-written decoder here for speed; the strict one
// costs a few microseconds more per token in a run that takes seconds (see
// BenchmarkStages/claimsMap).
func decodeObject(data []byte) (map[string]any, error) {
	var m map[string]any
	if err := jsonv2.Unmarshal(data, &m); err != nil {
		var se *jsontext.SyntacticError
		if errors.As(err, &se) && errors.Is(se.Err, jsontext.ErrDuplicateName) {
			return nil, duplicateNameError{pointer: string(se.JSONPointer)}
		}
		return nil, err
	}
	return m, nil
}

// duplicateNameError is a member name repeated in one object; pointer is
// its RFC 6901 JSON Pointer (/form/email): names only, never a value.
type duplicateNameError struct{ pointer string }

func (e duplicateNameError) Error() string {
	return "the member " + e.pointer + " is given more than once"
}

// isDuplicateName reports whether err is a repeated member name, and where.
func isDuplicateName(err error) (string, bool) {
	var d duplicateNameError
	if errors.As(err, &d) {
		return d.pointer, true
	}
	return "", false
}
