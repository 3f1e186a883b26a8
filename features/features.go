// Package features holds qualcert's Gherkin suites, embedded in the binary so
// that `qualcert run` needs no file on disk:
//
//   - certification/ is the certification suite: it is run against the page a
//     publisher's profile names and states, in plain words, what a correct
//     integration of "share information at the campaign load" does (the tag,
//     setMetaData before getMetaData, the token, the participant data, the
//     unhappy flows, security).
//   - reference/ is the reference suite: it states Qualifio's documented
//     behaviour and runs against the variants of the embedded demo publisher
//     (harness/demo), good and faulty, so that `go test ./...` proves the
//     harness judges each documented flow the way the documentation says.
//
// The step definitions live in package steps; a publisher can write feature
// files of their own with the same steps and run them with
// `qualcert run --features DIR`.
package features

import (
	"embed"
	"io/fs"
)

//go:embed certification/*.feature reference/*.feature
var files embed.FS

// FS is the embedded suites; paths are "certification/…" and "reference/…".
var FS fs.FS = files

// Folders of FS.
const (
	Certification = "certification"
	Reference     = "reference"
)
