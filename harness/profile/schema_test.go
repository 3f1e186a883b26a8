package profile

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// The schema `qualcert schema profile` prints is the one in the repository.
func TestEmbeddedSchemaIsTheFile(t *testing.T) {
	b, err := os.ReadFile("profile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, Schema) {
		t.Error("the embedded Schema differs from profile.schema.json")
	}
}

// The schema names every key the loader reads, at the same place, and no
// other: an editor completes exactly what Load accepts.
func TestSchemaCoversEveryKey(t *testing.T) {
	var schema map[string]any
	if err := json.Unmarshal(Schema, &schema); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, typ reflect.Type, node map[string]any)
	walk = func(path string, typ reflect.Type, node map[string]any) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
			if items, ok := node["items"].(map[string]any); ok {
				node = items
			}
		}
		if typ.Kind() != reflect.Struct || typ == reflect.TypeOf(Duration(0)) {
			return
		}
		props, _ := node["properties"].(map[string]any)
		var inStruct []string
		for i := 0; i < typ.NumField(); i++ {
			tag := strings.Split(typ.Field(i).Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			inStruct = append(inStruct, tag)
			sub, ok := props[tag].(map[string]any)
			if !ok {
				t.Errorf("the schema lacks %s", join(path, tag))
				continue
			}
			if node["additionalProperties"] != false {
				t.Errorf("the schema of %s allows unknown keys; the loader refuses them", path)
			}
			walk(join(path, tag), typ.Field(i).Type, sub)
		}
		for k := range props {
			if !slices.Contains(inStruct, k) {
				t.Errorf("the schema has %s, which the loader does not read", join(path, k))
			}
		}
	}
	walk("", reflect.TypeOf(Profile{}), schema)
}

// Every profile in testdata, and the profiles the documentation shows,
// validate against the schema and load.
func TestSchemaValidatesEveryTestdataProfile(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("profile.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("profile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	jsons, _ := filepath.Glob(filepath.Join("testdata", "good", "*.json"))
	files = append(files, jsons...)
	if len(files) < 3 {
		t.Fatalf("only %d testdata profiles", len(files))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	bad := strings.Replace(minimal, "page:\n", "page:\n  login:\n    url: https://www.example.com/login\n    steps:\n      - fill: {selector: \"#p\", value: x, value_env: P}\n", 1)
	var v any
	if err := yaml.Unmarshal([]byte(bad), &v); err != nil {
		t.Fatal(err)
	}
	if sch.Validate(v) == nil {
		t.Error("the schema accepts a fill with both value and value_env")
	}
}

// A value_env variable that is not set is an error of the profile, naming
// the variable, the key and the line, found before any browser starts.
func TestResolveEnvNamesTheVariableAndLine(t *testing.T) {
	path := filepath.Join("testdata", "good", "full.yaml")
	t.Setenv("QA_PASSWORD", "")
	os.Unsetenv("QA_PASSWORD")
	p, err := Load(path)
	if err != nil {
		t.Fatalf("Load reads no environment: %v", err)
	}
	err = p.ResolveEnv()
	want := path + ":8: page.login.steps[1].fill.value_env: environment variable QA_PASSWORD is not set"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("ResolveEnv = %v, want %q", err, want)
	}
	t.Setenv("QA_PASSWORD", "s3cret")
	if err := p.ResolveEnv(); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("QA_PASSWORD") // resolved once: the value stays with the profile
	if v, err := p.Page.Login.Steps[1].Fill.Resolve(); err != nil || v != "s3cret" {
		t.Errorf("Resolve = %q, %v", v, err)
	}
	out, _ := json.Marshal(p)
	if strings.Contains(string(out), "s3cret") {
		t.Error("the resolved value is serialized with the profile")
	}
}
