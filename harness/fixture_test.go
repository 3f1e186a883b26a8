package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/qualcert/qualcert/harness/dnstest"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/token"
)

// shared is the one browser of the package's tests.
var shared *Harness

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Key sources and user-info hosts resolve in the process: a name that
	// does not exist fails the same on every machine, with no query sent.
	h, err := Start(ctx, Options{BrowserBin: os.Getenv("QUALCERT_BROWSER_BIN"), Resolver: dnstest.NXDomain()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting the shared browser:", err)
		return 1
	}
	shared = h
	testHook = func(sc Scenario) {
		if sc.Name == panicScenario {
			panic("boom: a bug inside Run")
		}
	}
	code := m.Run()
	pid := h.Browser().PID()
	dir := h.Browser().UserDataDir()
	if err := h.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "closing the shared browser:", err)
		code = 1
	}
	if left := browser.Processes(pid); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "chromium processes left after Close: %v\n", left)
		code = 1
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "temporary profile %s left after Close\n", dir)
		code = 1
	}
	return code
}

// fixture is a publisher of the tests: keys, a profile, an httptest server.
type fixture struct {
	t    testing.TB
	key  token.Key
	dir  string
	srv  *httptest.Server
	mux  *http.ServeMux
	once sync.Once
}

const panicScenario = "a scenario whose Run panics"

const (
	testHost  = "jeux.example.test"
	testHost2 = "concours.example.test"
	testDiv   = "qualifio_insert_place_1"
	testDiv2  = "qualifio_insert_place_2"
	testIss   = "example-media"
)

func newFixture(t testing.TB) *fixture {
	t.Helper()
	k, err := token.Generate("ES256", "k1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	jwks := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.PublicJWK()}}
	raw, _ := json.Marshal(jwks)
	if err := os.WriteFile(filepath.Join(dir, "jwks.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, key: k, dir: dir, mux: http.NewServeMux()}
	f.srv = httptest.NewServer(f.mux)
	t.Cleanup(f.srv.Close)
	return f
}

// mint signs a valid token for campaign id (extra overrides claims).
func (f *fixture) mint(campaignID string, extra map[string]any) string {
	now := time.Now().Unix()
	claims := map[string]any{
		"iss": testIss, "sub": "user-42", "campaignId": campaignID, "iat": now, "exp": now + 600,
		"form": map[string]any{"email": "jane@example.com", "firstname": "Jane", "lastname": "Doe"},
	}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	s, err := token.Sign(claims, f.key, token.SignOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// page serves html at path and returns its URL.
func (f *fixture) page(path, html string) string {
	f.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, html)
	})
	return f.srv.URL + path
}

// profile certifies pageURL with one or two campaigns.
func (f *fixture) profile(pageURL string, campaigns int) *profile.Profile {
	f.t.Helper()
	p := &profile.Profile{
		Name: "Example Media",
		Page: profile.Page{URL: pageURL},
		Campaigns: []profile.Campaign{
			{DivID: testDiv, Host: testHost, CampaignID: "111"},
		},
		Token:  profile.Token{Issuer: testIss, JWKSFile: filepath.Join(f.dir, "jwks.json"), Mode: profile.ModeInline},
		Fields: profile.Fields{Required: []string{"email", "firstname", "lastname"}},
		// Waits are event-driven: a generous bound costs nothing on a quiet
		// machine and keeps the verdict on a loaded one (load 50 on 2 cores
		// took over 8 s to load these pages). Tests of the timeout itself
		// set their own.
		Timing: profile.Timing{Timeout: profile.Duration(60 * time.Second)},
	}
	if campaigns == 2 {
		p.Campaigns = append(p.Campaigns, profile.Campaign{DivID: testDiv2, Host: testHost2, CampaignID: "222"})
	}
	if err := p.Complete(); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// loader is the standard asynchronous loader snippet.
const loader = `(function(){var s=document.createElement('script');s.async=true;s.src='https://files.qualifio.com/kit/qualp.2.min.js';document.head.appendChild(s);})();`

// tag returns a page body with the div, the queue commands and the loader.
func tag(body string, commands ...string) string {
	return `<!doctype html><html><head><title>Example Media — contest</title></head><body>
<h1>Example Media</h1>` + body + `
<script>
var _qual_async = _qual_async || [];
` + strings.Join(commands, "\n") + `
` + loader + `
</script></body></html>`
}

func div(id string) string { return `<div id="` + id + `"></div>` }

func create(divID, host, guid string) string {
	return fmt.Sprintf(`_qual_async.push(['createIframe', %q, %q, 'channel', %q, '100%%', '650', '', '', '', '']);`, divID, host, guid)
}

func setMeta(tok, divID string) string {
	return fmt.Sprintf(`_qual_async.push(['setMetaData', 'JWT', %q, %q]);`, tok, divID)
}

// codes returns the must/should codes of res, sorted.
func codes(res *Result) []string {
	var out []string
	if res == nil {
		return nil
	}
	for _, f := range res.Findings {
		if f.Level == finding.Must || f.Level == finding.Should {
			out = append(out, string(f.Code))
		}
	}
	slices.Sort(out)
	return out
}

// run runs sc with the shared harness under a test deadline.
func runScenario(t *testing.T, sc Scenario) (*Result, error) {
	t.Helper()
	if sc.Name == "" {
		sc.Name = t.Name()
	}
	// Above the scenario's own bounds (tab set-up, login, timeout): the
	// run's verdict, not this context, ends a test.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := shared.Run(ctx, sc)
	if dir := os.Getenv("QUALCERT_SHOTS"); dir != "" && res != nil {
		for _, s := range res.Screenshots {
			name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()) + "-" + s.Name
			_ = os.WriteFile(filepath.Join(dir, name), s.PNG, 0o644)
		}
	}
	if res != nil {
		for _, f := range res.Findings {
			if f.Scenario != sc.Name {
				t.Errorf("finding %s has scenario %q, want %q", f.Code, f.Scenario, sc.Name)
			}
		}
	}
	return res, err
}

func dumpTimeline(t *testing.T, res *Result) {
	t.Helper()
	if res == nil {
		return
	}
	for _, e := range res.Timeline {
		raw, _ := json.Marshal(e.Data)
		t.Logf("%8.1f %-9s %-18s %-24s %s", e.TMs, e.Source, e.Event, e.Campaign, truncate(string(raw), 200))
	}
	for _, f := range res.Findings {
		t.Logf("finding %s", f)
	}
}

type profileCookie = profile.Cookie

func loginSteps(loginURL, email, passwordEnv string) *profile.Login {
	return &profile.Login{URL: loginURL, Steps: []profile.LoginStep{
		{Fill: &profile.Fill{Selector: "#email", Value: email}},
		{Fill: &profile.Fill{Selector: "#password", ValueEnv: passwordEnv}},
		{Click: "button[type=submit]"},
		{WaitURL: "/contest"},
	}}
}
