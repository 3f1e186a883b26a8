package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

func TestLoadGoodProfiles(t *testing.T) {
	for _, name := range []string{"minimal.yaml", "full.yaml", "access_token.json"} {
		t.Run(name, func(t *testing.T) {
			p, err := Load(filepath.Join("testdata", "good", name))
			if err != nil {
				t.Fatal(err)
			}
			if p.Name == "" || len(p.Campaigns) == 0 || p.Token.Issuer != "example-media" {
				t.Fatalf("profile %+v", p)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p, err := Load(filepath.Join("testdata", "good", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"name = page url":          p.Name == "https://www.example.com/contest",
		"mode any":                 p.Token.Mode == ModeAny,
		"default algorithms":       strings.Join(p.Token.Algorithms, ",") == strings.Join(DefaultAlgorithms, ","),
		"fields_claim form":        p.Token.FieldsClaimName() == "form",
		"access_token_claim":       p.Token.AccessTokenClaim == "access_token",
		"max_lifetime 1h":          p.Token.MaxLifetime.D() == time.Hour,
		"leeway 60s":               p.Token.Leeway.D() == 60*time.Second,
		"userinfo method GET":      p.UserInfo.Method == "GET",
		"userinfo timeout 5s":      p.UserInfo.Timeout.D() == 5*time.Second,
		"scenario timeout 20s":     p.Timing.Timeout.D() == 20*time.Second,
		"get_metadata_delay 0":     p.Timing.GetMetaDataDelay == 0,
		"kit_wait 8s":              p.Timing.KitWait.D() == 8*time.Second,
		"dir is the profile's own": filepath.IsAbs(p.Dir) && strings.HasSuffix(p.Dir, filepath.Join("testdata", "good")),
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("default not applied: %s", what)
		}
	}
	// HS* joins the defaults only with a secret; "" fields_claim means top level
	p, err = Load(filepath.Join("testdata", "good", "access_token.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Token.FieldsClaimName() != "" || p.UserInfo.Method != "POST" {
		t.Fatalf("fields_claim %q method %q", p.Token.FieldsClaimName(), p.UserInfo.Method)
	}
	// an explicit leeway of 0 stays 0
	p, err = Parse([]byte(strings.Replace(minimal, "  issuer: x\n", "  issuer: x\n  leeway: 0s\n", 1)), "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Token.Leeway != 0 {
		t.Fatalf("explicit leeway 0 became %s", p.Token.Leeway)
	}
}

func TestRelativePaths(t *testing.T) {
	p, err := Load(filepath.Join("testdata", "good", "full.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join("testdata", "good", "keys", "jwks.json"))
	if p.Token.JWKSFile != abs {
		t.Fatalf("jwks_file %q, want %q", p.Token.JWKSFile, abs)
	}
	if !strings.HasSuffix(p.Token.DecryptionKeyFile, filepath.Join("good", "keys", "qualifio-enc.pem")) {
		t.Fatalf("decryption_key_file %q", p.Token.DecryptionKeyFile)
	}
	// from another working directory, the same profile still finds its keys
	wd, _ := os.Getwd()
	t.Chdir(t.TempDir())
	if _, err := Load(filepath.Join(wd, "testdata", "good", "full.yaml")); err != nil {
		t.Fatal(err)
	}
}

const minimal = `page:
  url: https://www.example.com/
campaigns:
  - {div_id: d1, host: jeux.example.com, campaign_id: "1"}
token:
  issuer: x
  jwks_url: https://www.example.com/jwks.json
`

func TestErrorsNameKeyAndLine(t *testing.T) {
	cases := []struct {
		name, yaml, key string
		line            int
		msg             string
	}{
		{"unknown top-level key", minimal + "tokn: {}\n", "tokn", 8, "unknown key"},
		{"misspelt jwks_url", strings.Replace(minimal, "jwks_url", "jwks_ulr", 1), "token.jwks_ulr", 7, "unknown key"},
		{"unknown key in a list item", strings.Replace(minimal, "campaign_id", "campaignid", 1), "campaigns[0].campaignid", 4, "unknown key"},
		{"bad duration", minimal + "  leeway: 60 seconds\n", "token.leeway", 8, "not a duration"},
		{"negative duration", minimal + "timing: {timeout: -1s}\n", "timing.timeout", 8, "negative"},
		{"list where a mapping belongs", minimal + "fields: [email]\n", "fields", 8, "want a mapping"},
		{"scalar where a list belongs", minimal + "fields: {required: email}\n", "fields.required", 8, "want a list"},
		{"bad mode", minimal + "  mode: cookie\n", "token.mode", 8, "not one of"},
		{"bad algorithm", minimal + "  algorithms: [RS256, none]\n", "token.algorithms[1]", 8, "not a JWS algorithm"},
		{"HS without secret", minimal + "  algorithms: [HS256]\n", "token.algorithms[0]", 8, "secret_file"},
		{"page url not http", strings.Replace(minimal, "https://www.example.com/\n", "ftp://x/\n", 1), "page.url", 2, "not an http(s) URL"},
		{"missing campaign id", strings.Replace(minimal, `, campaign_id: "1"`, "", 1), "campaigns[0].campaign_id", 4, "required"},
		{"host with scheme", strings.Replace(minimal, "host: jeux.example.com", "host: https://jeux.example.com/", 1), "campaigns[0].host", 4, "host name"},
		{"two key sources", minimal + "  secret_file: s.txt\n", "token", 5, "only one key source"},
		{"missing key file", strings.Replace(minimal, "jwks_url: https://www.example.com/jwks.json", "jwks_file: nope.json", 1), "token.jwks_file", 7, "cannot read"},
		{"userinfo method", minimal + "userinfo: {method: PUT, url: https://a.example/u}\n", "userinfo.method", 8, "not GET or POST"},
		{"kit_wait too short", minimal + "timing: {kit_wait: 100ms}\n", "timing.kit_wait", 8, "out of range"},
		{"kit_wait too long", minimal + "timing: {kit_wait: 10m, timeout: 20m}\n", "timing.kit_wait", 8, "out of range"},
		{"kit_wait past the timeout", minimal + "timing: {kit_wait: 30s}\n", "timing.kit_wait", 8, "not below timing.timeout"},
		{"access_token without userinfo", minimal + "  mode: access_token\n", "userinfo.url", 0, "required"},
		{"delay of 1000h", minimal + "timing:\n  get_metadata_delay: 1000h\n", "timing.get_metadata_delay", 9, "out of range"},
		{"delay past the timeout", minimal + "timing:\n  get_metadata_delay: 30s\n  timeout: 20s\n", "timing.get_metadata_delay", 9, "not shorter than timing.timeout"},
		{"timeout of a week", minimal + "timing: {timeout: 168h}\n", "timing.timeout", 8, "out of range"},
		{"leeway of a month", minimal + "  leeway: 720h\n", "token.leeway", 8, "out of range"},
		{"userinfo timeout of 2h", minimal + "userinfo: {url: https://a.example/u, timeout: 2h}\n", "userinfo.timeout", 8, "out of range"},
		{"campaign host *", strings.Replace(minimal, "host: jeux.example.com", `host: "*"`, 1), "campaigns[0].host", 4, "no wildcard"},
		{"campaign host *.example.com", strings.Replace(minimal, "host: jeux.example.com", `host: "*.example.com"`, 1), "campaigns[0].host", 4, "no wildcard"},
		{"campaign host with a space", strings.Replace(minimal, "host: jeux.example.com", `host: "jeux example.com"`, 1), "campaigns[0].host", 4, "not a host name"},
		{"campaign host is the page's", strings.Replace(minimal, "host: jeux.example.com", "host: WWW.example.com", 1), "campaigns[0].host", 4, "host of page.url"},
		{"campaign host is the login page's", strings.Replace(minimal, "  url: https://www.example.com/\n", "  url: https://www.example.com/\n  login: {url: https://jeux.example.com/login}\n", 1), "campaigns[0].host", 5, "host of page.login.url"},
		{"campaign host is the page's with its port", strings.Replace(minimal, "host: jeux.example.com", "host: www.example.com:443", 1), "campaigns[0].host", 4, "host of page.url"},
		{"campaign host is the page's with a trailing dot", strings.Replace(minimal, "host: jeux.example.com", "host: www.example.com.", 1), "campaigns[0].host", 4, "not a host name"},
		{"campaign host is a local page's", strings.Replace(strings.Replace(minimal, "https://www.example.com/\n", "http://127.0.0.1:8080/contest\n", 1), "host: jeux.example.com", `host: "127.0.0.1:8080"`, 1), "campaigns[0].host", 4, "host of page.url"},
		{"jwks_url on the campaign host", strings.Replace(minimal, "jwks_url: https://www.example.com/jwks.json", "jwks_url: https://JEUX.example.com/jwks.json", 1), "token.jwks_url", 7, "campaign host of campaigns[0]"},
		{"jwks_url on a Qualifio host", strings.Replace(minimal, "jwks_url: https://www.example.com/jwks.json", "jwks_url: https://files.qualifio.com/keys/jwks.json", 1), "token.jwks_url", 7, "a Qualifio host"},
		{"userinfo on the campaign host", minimal + "userinfo: {url: https://jeux.example.com/api/me}\n", "userinfo.url", 8, "campaign host of campaigns[0]"},
		{"userinfo on a Qualifio host", minimal + "userinfo:\n  url: https://api.qualifioapp.com/userinfo\n", "userinfo.url", 9, "a Qualifio host"},
		{"key file is a directory", strings.Replace(minimal, "jwks_url: https://www.example.com/jwks.json", "jwks_file: .", 1), "token.jwks_file", 7, "a directory"},
		{"key file is a device", strings.Replace(minimal, "jwks_url: https://www.example.com/jwks.json", "public_key_file: /dev/zero", 1), "token.public_key_file", 7, "a character device"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), t.TempDir())
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("want *Error, got %v", err)
			}
			if pe.Key != tc.key || pe.Line != tc.line || !strings.Contains(pe.Msg, tc.msg) {
				t.Fatalf("got key %q line %d msg %q; want key %q line %d msg containing %q", pe.Key, pe.Line, pe.Msg, tc.key, tc.line, tc.msg)
			}
		})
	}
}

func TestLoadErrorNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(p, []byte(minimal+"bogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+":8: bogus: unknown key") {
		t.Fatalf("error %v", err)
	}
}

// TestSchemaAcceptsExamples validates the example profiles (and the
// minimal one) against profile.schema.json, and checks that the schema
// refuses what the loader refuses.
func TestSchemaAcceptsExamples(t *testing.T) {
	c := jsonschema.NewCompiler()
	f, err := os.Open("profile.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(f)
	f.Close()
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
	instance := func(t *testing.T, data []byte) any {
		var v any
		if err := yaml.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, name := range []string{"minimal.yaml", "full.yaml", "access_token.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "good", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(instance(t, data)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := sch.Validate(instance(t, []byte(minimal))); err != nil {
		t.Errorf("minimal: %v", err)
	}
	for name, bad := range map[string]string{
		"unknown key":   minimal + "tokn: {}\n",
		"bad mode":      minimal + "  mode: cookie\n",
		"bad alg":       minimal + "  algorithms: [none]\n",
		"no key source": strings.Replace(minimal, "  jwks_url: https://www.example.com/jwks.json\n", "", 1),
		"bad duration":  minimal + "  leeway: soon\n",
		"no campaigns":  strings.Replace(minimal, `  - {div_id: d1, host: jeux.example.com, campaign_id: "1"}`, "  []", 1),
		"wildcard host": strings.Replace(minimal, "host: jeux.example.com", `host: "*"`, 1),
	} {
		if err := sch.Validate(instance(t, []byte(bad))); err == nil {
			t.Errorf("schema accepts %s", name)
		}
	}
}

// TestHostileFiles: a profile or a key file that is not a regular file is
// refused at load, naming it, without blocking (a FIFO) or reading without
// end (/dev/zero); an oversized profile is refused by its size.
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "key.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte(minimal+"# "+strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withFIFO := filepath.Join(dir, "fifo.yaml")
	if err := os.WriteFile(withFIFO, []byte(strings.Replace(minimal, "jwks_url: https://www.example.com/jwks.json", "secret_file: key.fifo", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/dev/zero": "a character device",
		fifo:        "a FIFO",
		dir:         "a directory",
		big:         "larger than 1 MiB",
		withFIFO:    "token.secret_file: " + fifo + ": not a regular file (it is a FIFO)",
	} {
		done := make(chan error, 1)
		go func() { _, err := Load(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s) = %v, want an error containing %q", path, err, want)
			}
		case <-time.After(20 * time.Second): // the test's deadline: a blocked Load never returns
			t.Fatalf("Load(%s) blocked", path)
		}
	}
}
