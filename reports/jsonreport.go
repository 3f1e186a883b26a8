package reports

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is the JSON Schema (2020-12) of report.json, also in the repository
// at reports/schema/report.schema.json.
//
//go:embed schema/report.schema.json
var Schema []byte

const schemaURL = "https://qualcert.dev/schema/qualcert.report/v1/report.schema.json"

var (
	compiledOnce   sync.Once
	compiledSchema *jsonschema.Schema
	compileErr     error
)

func reportSchema() (*jsonschema.Schema, error) {
	compiledOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
		if err != nil {
			compileErr = fmt.Errorf("parsing the embedded report schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(schemaURL, doc); err != nil {
			compileErr = fmt.Errorf("loading the embedded report schema: %w", err)
			return
		}
		compiledSchema, compileErr = c.Compile(schemaURL)
		if compileErr != nil {
			compileErr = fmt.Errorf("compiling the embedded report schema: %w", compileErr)
		}
	})
	return compiledSchema, compileErr
}

// ValidateJSON checks that b is a report.json of schema qualcert.report/v1.
func ValidateJSON(b []byte) error {
	sch, err := reportSchema()
	if err != nil {
		return err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("report.json is not JSON: %w", err)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("report.json does not match %s: %w", SchemaID, err)
	}
	return nil
}

// writeJSON writes r indented; r comes from forOutput (no nil slices).
func writeJSON(w io.Writer, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report.json: %w", err)
	}
	b = append(b, '\n')
	_, err = w.Write(b)
	return err
}
