// Package profile reads the publisher profile (CONTRACT §2): which page to
// certify, its campaigns, how tokens are signed or encrypted, which
// participant fields are expected, and the user-info webservice.
//
// A profile is YAML or JSON (JSON is read as YAML, so errors carry lines for
// both). [Load] is strict: an unknown key or a bad value is an [*Error] that
// names the file, the key path and the line, because a profile that silently
// ignores a misspelt "jwks_ulr" certifies the wrong thing. Relative file paths
// resolve against the profile's own folder, and defaults are filled in, so
// every consumer reads a complete profile.
package profile

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/qualcert/qualcert/harness/safefile"
)

// Profile is one publisher's integration, as certified by a run.
type Profile struct {
	Name      string     `yaml:"name" json:"name"`
	Page      Page       `yaml:"page" json:"page"`
	Campaigns []Campaign `yaml:"campaigns" json:"campaigns"`
	Token     Token      `yaml:"token" json:"token"`
	Fields    Fields     `yaml:"fields" json:"fields"`
	UserInfo  UserInfo   `yaml:"userinfo" json:"userinfo"`
	Timing    Timing     `yaml:"timing" json:"timing"`

	// Dir is the folder relative paths were resolved against ("" for a
	// profile built in code).
	Dir string `yaml:"-" json:"-"`

	file string // the path Load read, for errors found after loading
}

// Page is the publisher page that hosts the campaigns, and how to reach it as
// a logged-in participant.
type Page struct {
	URL     string   `yaml:"url" json:"url"`
	Cookies []Cookie `yaml:"cookies" json:"cookies,omitempty"`
	Login   *Login   `yaml:"login" json:"login,omitempty"`
}

// Cookie is a session cookie set before the page loads.
type Cookie struct {
	Name   string `yaml:"name" json:"name"`
	Value  string `yaml:"value" json:"value"`
	Domain string `yaml:"domain" json:"domain"`
	Path   string `yaml:"path" json:"path"`
}

// Login is a scripted login run before the page loads.
type Login struct {
	URL   string      `yaml:"url" json:"url"`
	Steps []LoginStep `yaml:"steps" json:"steps"`
}

// LoginStep is exactly one of Fill, Click or WaitURL.
type LoginStep struct {
	Fill    *Fill  `yaml:"fill" json:"fill,omitempty"`
	Click   string `yaml:"click" json:"click,omitempty"`
	WaitURL string `yaml:"wait_url" json:"wait_url,omitempty"`
}

// Fill types a value into the element matching Selector. The value comes
// from Value or from the environment variable ValueEnv, so that passwords
// stay out of profiles.
type Fill struct {
	Selector string `yaml:"selector" json:"selector"`
	Value    string `yaml:"value" json:"value,omitempty"`
	ValueEnv string `yaml:"value_env" json:"value_env,omitempty"`

	envAt    *Error  // where value_env is written, for ResolveEnv's error
	resolved *string // the variable's value, read by ResolveEnv
}

// Resolve returns the value to type: Value, or the variable ValueEnv names
// (as ResolveEnv read it, else from the environment now).
func (f Fill) Resolve() (string, error) {
	if f.ValueEnv == "" {
		return f.Value, nil
	}
	if f.resolved != nil {
		return *f.resolved, nil
	}
	v, ok := os.LookupEnv(f.ValueEnv)
	if !ok {
		return "", fmt.Errorf("login fill %q: environment variable %s is not set", f.Selector, f.ValueEnv)
	}
	return v, nil
}

// Campaign is one embedded campaign.
type Campaign struct {
	DivID      string `yaml:"div_id" json:"div_id"`
	Host       string `yaml:"host" json:"host"`
	CampaignID string `yaml:"campaign_id" json:"campaign_id"`
}

// Token modes.
const (
	ModeInline      = "inline"
	ModeAccessToken = "access_token"
	ModeAny         = "any"
)

// Token says how the publisher's tokens are made and must be checked.
type Token struct {
	Mode              string   `yaml:"mode" json:"mode"`
	Issuer            string   `yaml:"issuer" json:"issuer"`
	Audience          string   `yaml:"audience" json:"audience,omitempty"`
	Algorithms        []string `yaml:"algorithms" json:"algorithms,omitempty"`
	JWKSURL           string   `yaml:"jwks_url" json:"jwks_url,omitempty"`
	JWKSFile          string   `yaml:"jwks_file" json:"jwks_file,omitempty"`
	PublicKeyFile     string   `yaml:"public_key_file" json:"public_key_file,omitempty"`
	SecretFile        string   `yaml:"secret_file" json:"secret_file,omitempty"`
	DecryptionKeyFile string   `yaml:"decryption_key_file" json:"decryption_key_file,omitempty"`
	// FieldsClaim is where inline participant fields live; nil means the
	// default "form", an explicit "" means the top level of the claims.
	FieldsClaim      *string  `yaml:"fields_claim" json:"fields_claim,omitempty"`
	AccessTokenClaim string   `yaml:"access_token_claim" json:"access_token_claim"`
	MaxLifetime      Duration `yaml:"max_lifetime" json:"max_lifetime"`
	Leeway           Duration `yaml:"leeway" json:"leeway"`
}

// FieldsClaimName returns the claim holding inline fields ("" = top level).
func (t Token) FieldsClaimName() string {
	if t.FieldsClaim == nil {
		return "form"
	}
	return *t.FieldsClaim
}

// Fields are the participant fields expected to prefill the form.
type Fields struct {
	Required []string `yaml:"required" json:"required,omitempty"`
	Optional []string `yaml:"optional" json:"optional,omitempty"`
}

// UserInfo is the publisher's webservice called with an access token.
type UserInfo struct {
	URL        string   `yaml:"url" json:"url,omitempty"`
	Method     string   `yaml:"method" json:"method,omitempty"`
	FieldsPath string   `yaml:"fields_path" json:"fields_path,omitempty"`
	Timeout    Duration `yaml:"timeout" json:"timeout"`
}

// Timing is the emulated campaign's pace and the scenario budget.
type Timing struct {
	GetMetaDataDelay Duration `yaml:"get_metadata_delay" json:"get_metadata_delay"`
	Timeout          Duration `yaml:"timeout" json:"timeout"`
	// KitWait is how long after the page's load event the run keeps
	// waiting for the kit while the page shows signs of a campaign (a
	// qualifio_insert_place_* div, a _qual_async queue, a script naming
	// Qualifio): a lazy loader, a timer or a client-side route may insert
	// the tag late. Raise it for a page that inserts its tag later still.
	KitWait Duration `yaml:"kit_wait" json:"kit_wait"`
}

// Duration is a time.Duration written as a Go duration string ("500ms").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("want a duration such as 500ms or 1h")
	}
	v, err := time.ParseDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like 500ms, 20s or 1h)", n.Value)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// Defaults of CONTRACT §2.
var (
	DefaultAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
	DefaultHMAC       = []string{"HS256", "HS384", "HS512"}
)

const (
	DefaultMaxLifetime      = time.Hour
	DefaultLeeway           = 60 * time.Second
	DefaultUserInfoTimeout  = 5 * time.Second
	DefaultScenarioTimeout  = 20 * time.Second
	DefaultKitWait          = 8 * time.Second // a lazy loader's 3.5 s timer fallback, a client route on a slow device
	MinKitWait              = 500 * time.Millisecond
	MaxKitWait              = 5 * time.Minute
	DefaultAccessTokenClaim = "access_token"
)

// Error is a profile error that names where it is.
type Error struct {
	File string // profile path, "" when read from bytes
	Line int    // 1-based, 0 when unknown
	Key  string // dotted key path such as token.jwks_url or campaigns[1].host
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Load reads, checks and completes the profile at path.
func Load(path string) (*Profile, error) {
	data, err := safefile.Read(path, safefile.MaxProfile)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	p, err := Parse(data, filepath.Dir(abs))
	var pe *Error
	if errors.As(err, &pe) {
		pe.File = path
	}
	if p != nil {
		p.file = path
	}
	return p, err
}

// Parse reads a profile from bytes; relative paths resolve against dir.
func Parse(data []byte, dir string) (*Profile, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{Msg: "the profile is empty"}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, &Error{Line: doc.Line, Msg: "a profile is a mapping of keys (name, page, campaigns, token…)"}
	}
	if err := checkKeys(doc, reflect.TypeOf(Profile{}), ""); err != nil {
		return nil, err
	}
	var p Profile
	if err := doc.Decode(&p); err != nil {
		return nil, yamlError(err)
	}
	p.Dir = dir
	lines := map[string]int{}
	indexLines(doc, "", lines)
	if err := p.complete(lines); err != nil {
		return nil, err
	}
	return &p, nil
}

// checkKeys walks the node tree against the struct's yaml tags so that an
// unknown key is reported with its full path and line.
func checkKeys(n *yaml.Node, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		known := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			known[tag] = f.Type
			names = append(names, tag)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := known[k.Value]
			if !ok {
				return &Error{Line: k.Line, Key: join(path, k.Value), Msg: fmt.Sprintf("unknown key %q (known here: %s)", k.Value, strings.Join(names, ", "))}
			}
			if err := checkKeys(v, ft, join(path, k.Value)); err != nil {
				return err
			}
		}
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			if err := checkKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case t == durationType:
		if err := new(Duration).UnmarshalYAML(n); err != nil {
			return &Error{Line: n.Line, Key: path, Msg: err.Error()}
		}
	case t.Kind() == reflect.Struct && n.Kind != yaml.MappingNode && !isNull(n):
		return &Error{Line: n.Line, Key: path, Msg: fmt.Sprintf("want a mapping of keys, not %s", describeNode(n))}
	case t.Kind() == reflect.Slice && n.Kind != yaml.SequenceNode && !isNull(n):
		return &Error{Line: n.Line, Key: path, Msg: fmt.Sprintf("want a list, not %s", describeNode(n))}
	case t.Kind() == reflect.String && n.Kind != yaml.ScalarNode:
		return &Error{Line: n.Line, Key: path, Msg: fmt.Sprintf("want a text value, not %s", describeNode(n))}
	}
	return nil
}

var durationType = reflect.TypeOf(Duration(0))

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("the value %q", n.Value)
	}
	return "that"
}

func indexLines(n *yaml.Node, path string, lines map[string]int) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := join(path, n.Content[i].Value)
			lines[p] = n.Content[i].Line
			indexLines(n.Content[i+1], p, lines)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			lines[p] = c.Line
			indexLines(c, p, lines)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlError turns yaml.v3's "line N: …" messages into an *Error.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	msg = strings.TrimSpace(msg)
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		if i := strings.Index(msg, ":"); i >= 0 {
			msg = strings.TrimSpace(msg[i+1:])
		}
	}
	return &Error{Line: line, Msg: msg}
}

// complete validates values and fills defaults.
func (p *Profile) complete(lines map[string]int) error {
	bad := func(key, format string, args ...any) error {
		l := lines[key]
		for k := key; l == 0 && k != ""; {
			i := strings.LastIndexAny(k, ".[")
			if i < 0 {
				break
			}
			k = k[:i]
			l = lines[k]
		}
		return &Error{Line: l, Key: key, Msg: fmt.Sprintf(format, args...)}
	}
	if p.Page.URL == "" {
		return bad("page.url", "required: the URL of the page that hosts the campaigns")
	}
	if u, err := url.Parse(p.Page.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("page.url", "%q is not an http(s) URL", p.Page.URL)
	}
	if p.Name == "" {
		p.Name = p.Page.URL
	}
	if p.Page.Login != nil {
		if p.Page.Login.URL == "" {
			return bad("page.login.url", "required with page.login")
		}
		for i, s := range p.Page.Login.Steps {
			n := 0
			if s.Fill != nil {
				n++
				if s.Fill.Selector == "" {
					return bad(fmt.Sprintf("page.login.steps[%d].fill.selector", i), "required")
				}
				if s.Fill.ValueEnv != "" {
					key := fmt.Sprintf("page.login.steps[%d].fill.value_env", i)
					if s.Fill.Value != "" {
						return bad(key, "give value or value_env, not both")
					}
					s.Fill.envAt = bad(key, "").(*Error)
				}
			}
			if s.Click != "" {
				n++
			}
			if s.WaitURL != "" {
				n++
			}
			if n != 1 {
				return bad(fmt.Sprintf("page.login.steps[%d]", i), "each step is exactly one of fill, click, wait_url")
			}
		}
		if len(p.Page.Cookies) > 0 {
			return bad("page.login", "give either page.cookies or page.login, not both")
		}
	}
	for i, c := range p.Page.Cookies {
		if c.Name == "" {
			return bad(fmt.Sprintf("page.cookies[%d].name", i), "required")
		}
	}
	if len(p.Campaigns) == 0 {
		return bad("campaigns", "at least one campaign is required (div_id, host, campaign_id)")
	}
	// The hosts the browser must reach for real: a campaign host equal to
	// one of them would be intercepted and swallow the page.
	ownHosts := map[string]string{}
	if u, err := url.Parse(p.Page.URL); err == nil {
		ownHosts[bareHost(u.Hostname())] = "page.url"
	}
	if p.Page.Login != nil {
		if u, err := url.Parse(p.Page.Login.URL); err == nil && u.Hostname() != "" {
			if _, dup := ownHosts[bareHost(u.Hostname())]; !dup {
				ownHosts[bareHost(u.Hostname())] = "page.login.url"
			}
		}
	}
	seen := map[string]bool{}
	for i, c := range p.Campaigns {
		k := fmt.Sprintf("campaigns[%d]", i)
		switch {
		case c.DivID == "":
			return bad(k+".div_id", "required: the id of the div that hosts the campaign (qualifio_insert_place_…)")
		case c.Host == "":
			return bad(k+".host", "required: the campaign host given to createIframe")
		case c.CampaignID == "":
			return bad(k+".campaign_id", "required: the campaignId the token must carry")
		case strings.Contains(c.Host, "/"):
			return bad(k+".host", "%q must be a host name, without scheme or path", c.Host)
		case !validHost(c.Host):
			return bad(k+".host", "%q is not a host name (letters, digits, dots and hyphens; no wildcard): every request to it is answered by the reference campaign", c.Host)
		case ownHosts[bareHost(c.Host)] != "":
			return bad(k+".host", "%q is the host of %s: intercepting it would replace the publisher's own page with the reference campaign (the campaign host is a CNAME of its own, such as jeux.example.com)", c.Host, ownHosts[bareHost(c.Host)])
		case seen[c.DivID]:
			return bad(k+".div_id", "%q is used by two campaigns", c.DivID)
		}
		seen[c.DivID] = true
	}

	t := &p.Token
	switch t.Mode {
	case "":
		t.Mode = ModeAny
	case ModeInline, ModeAccessToken, ModeAny:
	default:
		return bad("token.mode", "%q is not one of inline, access_token, any", t.Mode)
	}
	if t.Issuer == "" {
		return bad("token.issuer", "required: the iss the publisher puts in its tokens")
	}
	sources := 0
	for _, s := range []string{t.JWKSURL, t.JWKSFile, t.PublicKeyFile, t.SecretFile} {
		if s != "" {
			sources++
		}
	}
	if sources == 0 && t.DecryptionKeyFile == "" {
		return bad("token", "give one key source: jwks_url, jwks_file, public_key_file or secret_file")
	}
	if sources > 1 {
		return bad("token", "give only one key source of jwks_url, jwks_file, public_key_file, secret_file")
	}
	if t.JWKSURL != "" {
		if u, err := url.Parse(t.JWKSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("token.jwks_url", "%q is not an http(s) URL", t.JWKSURL)
		}
		if why := p.intercepted(t.JWKSURL); why != "" {
			return bad("token.jwks_url", "%q is on %s: qualcert would fetch the keys from there instead of from the publisher; publish the JWKS on one of your own hosts", t.JWKSURL, why)
		}
	}
	for key, f := range map[string]*string{"token.jwks_file": &t.JWKSFile, "token.public_key_file": &t.PublicKeyFile, "token.secret_file": &t.SecretFile, "token.decryption_key_file": &t.DecryptionKeyFile} {
		if *f != "" && !filepath.IsAbs(*f) && p.Dir != "" {
			*f = filepath.Join(p.Dir, *f)
		}
		if *f != "" {
			if err := checkKeyFile(*f); err != nil {
				return bad(key, "%v", err)
			}
		}
	}
	if len(t.Algorithms) == 0 {
		t.Algorithms = append([]string(nil), DefaultAlgorithms...)
		if t.SecretFile != "" {
			t.Algorithms = append(t.Algorithms, DefaultHMAC...)
		}
	}
	for i, a := range t.Algorithms {
		if !slices.Contains(DefaultAlgorithms, a) && !slices.Contains(DefaultHMAC, a) {
			return bad(fmt.Sprintf("token.algorithms[%d]", i), "%q is not a JWS algorithm qualcert accepts (%s, %s)", a, strings.Join(DefaultAlgorithms, " "), strings.Join(DefaultHMAC, " "))
		}
		if strings.HasPrefix(a, "HS") && t.SecretFile == "" {
			return bad(fmt.Sprintf("token.algorithms[%d]", i), "%s needs token.secret_file (a shared secret)", a)
		}
	}
	if t.AccessTokenClaim == "" {
		t.AccessTokenClaim = DefaultAccessTokenClaim
	}
	if t.MaxLifetime == 0 {
		t.MaxLifetime = Duration(DefaultMaxLifetime)
	}
	if _, set := lines["token.leeway"]; !set && t.Leeway == 0 {
		t.Leeway = Duration(DefaultLeeway)
	}

	if t.Mode == ModeAccessToken && p.UserInfo.URL == "" {
		return bad("userinfo.url", "required with token.mode access_token")
	}
	if p.UserInfo.URL != "" {
		if u, err := url.Parse(p.UserInfo.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("userinfo.url", "%q is not an http(s) URL", p.UserInfo.URL)
		}
		if why := p.intercepted(p.UserInfo.URL); why != "" {
			return bad("userinfo.url", "%q is on %s: the user-info webservice is the publisher's own, which Qualifio calls; qualcert never calls Qualifio's hosts nor the campaign hosts it answers itself", p.UserInfo.URL, why)
		}
	}
	switch strings.ToUpper(p.UserInfo.Method) {
	case "":
		p.UserInfo.Method = "GET"
	case "GET", "POST":
		p.UserInfo.Method = strings.ToUpper(p.UserInfo.Method)
	default:
		return bad("userinfo.method", "%q is not GET or POST", p.UserInfo.Method)
	}
	if p.UserInfo.Timeout == 0 {
		p.UserInfo.Timeout = Duration(DefaultUserInfoTimeout)
	}
	if p.Timing.Timeout == 0 {
		p.Timing.Timeout = Duration(DefaultScenarioTimeout)
	}
	for _, r := range durationRanges {
		d := r.get(p)
		if d < r.min || d > r.max {
			return bad(r.key, "%s is out of range: %s", d, r.why)
		}
	}
	if d, t := p.Timing.GetMetaDataDelay, p.Timing.Timeout; d >= t {
		return bad("timing.get_metadata_delay", "%s is not shorter than timing.timeout (%s): the campaign would ask for metadata after the scenario ended", d, t)
	}
	switch w := p.Timing.KitWait.D(); {
	case w == 0:
		p.Timing.KitWait = Duration(min(DefaultKitWait, p.Timing.Timeout.D()/2))
	case w < MinKitWait || w > MaxKitWait:
		return bad("timing.kit_wait", "%s is out of range (%s to %s)", w, MinKitWait, MaxKitWait)
	case w >= p.Timing.Timeout.D():
		return bad("timing.kit_wait", "%s is not below timing.timeout (%s): the run would time out before it stops waiting for the kit", w, p.Timing.Timeout)
	}
	return nil
}

// durationRanges bound every duration of a profile. A value out of its
// range is a typo (1000h for 1000ms) and would otherwise overflow where it
// is used: a browser timer wraps past 2^31 ms and fires at once.
var durationRanges = []struct {
	key      string
	get      func(*Profile) Duration
	min, max Duration
	why      string
}{
	{"timing.get_metadata_delay", func(p *Profile) Duration { return p.Timing.GetMetaDataDelay }, 0, Duration(time.Minute),
		"the campaign asks for metadata within a minute of loading (write it like 0ms, 500ms or 3s)"},
	{"timing.timeout", func(p *Profile) Duration { return p.Timing.Timeout }, Duration(time.Second), Duration(30 * time.Minute),
		"a scenario's budget is between 1s and 30m"},
	{"userinfo.timeout", func(p *Profile) Duration { return p.UserInfo.Timeout }, Duration(time.Millisecond), Duration(5 * time.Minute),
		"between 1ms and 5m"},
	{"token.max_lifetime", func(p *Profile) Duration { return p.Token.MaxLifetime }, Duration(time.Second), Duration(366 * 24 * time.Hour),
		"between 1s and a year"},
	{"token.leeway", func(p *Profile) Duration { return p.Token.Leeway }, 0, Duration(24 * time.Hour),
		"a clock skew allowance is at most a day"},
}

// checkKeyFile refuses a key file that is not a regular file (a directory,
// a FIFO that would block the run, a device) or that is over the key cap,
// without reading it.
func checkKeyFile(path string) error {
	if err := safefile.Check(path); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return fmt.Errorf("cannot read %s: %v", path, pe.Err)
		}
		return err
	}
	if st, err := os.Stat(path); err == nil && st.Size() > safefile.MaxKey {
		return &safefile.TooLargeError{Path: path, Max: safefile.MaxKey}
	}
	return nil
}

// bareHost returns host h lower-cased, without port nor trailing dot, as a
// page URL's host name compares to it.
func bareHost(h string) string {
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// intercepted says why a URL qualcert itself calls (jwks_url, userinfo.url)
// is on a host it must not call: a campaign host of the profile (the
// browser's requests to it are answered by the reference campaign, and for
// real it is a CNAME to Qualifio) or one of Qualifio's domains; "" when
// neither.
func (p *Profile) intercepted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	h := bareHost(u.Hostname())
	for i, c := range p.Campaigns {
		if bareHost(c.Host) == h {
			return fmt.Sprintf("the campaign host of campaigns[%d]", i)
		}
	}
	for _, d := range []string{"qualifio.com", "qualifioapp.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return "a Qualifio host (" + d + ")"
		}
	}
	return ""
}

// validHost reports whether h is a plain host name or IP literal, with an
// optional port: no wildcard, scheme, path, user or space.
func validHost(h string) bool {
	if h == "" || len(h) > 253+6 {
		return false
	}
	name := h
	if host, port, err := net.SplitHostPort(h); err == nil {
		if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			return false
		}
		name = host
	}
	if ip := net.ParseIP(strings.Trim(name, "[]")); ip != nil {
		return true
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Complete fills the defaults of a profile built in code (the demo's) and
// checks it as Load would.
func (p *Profile) Complete() error { return p.complete(map[string]int{}) }

// CampaignByDiv returns the campaign with that div id.
func (p *Profile) CampaignByDiv(divID string) (Campaign, bool) {
	for _, c := range p.Campaigns {
		if c.DivID == divID {
			return c, true
		}
	}
	return Campaign{}, false
}
