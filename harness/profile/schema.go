package profile

import _ "embed"

// Schema is the JSON Schema of a profile (profile.schema.json, draft
// 2020-12), for editors: `qualcert schema profile` prints it.
//
//go:embed profile.schema.json
var Schema []byte
