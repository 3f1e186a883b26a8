// Package kit is the Qualifio side of a certification run: the reference kit
// (the `_qual_async` loader script), the reference campaign page and the Go
// handlers that serve them inside the browser, plus the recorder script the
// harness injects into the publisher's page.
//
// Nothing here is ever served on a network port. The harness intercepts the
// loader URLs and the profile's campaign hosts in Chromium (package browser)
// and hands each intercepted request to a [Server], an [net/http.Handler]
// built for one scenario. The page therefore loads "https://files.qualifio.com/kit/qualp.2.min.js"
// and "https://jeux.example.com/…" without DNS, and gets this package's
// embedded assets:
//
//   - assets/kit.js: the queue (commands pushed before the loader replayed in
//     order, later ones run at once), createIframe and setMetaData, and the
//     postMessage protocol of PROTOCOL.md; it emits what it does through the
//     recorder of package observe, which decodes it;
//   - assets/campaign.html: a plausible campaign that asks for metadata
//     get_metadata_delay after it loads, POSTs the token it gets to
//     /__qualcert/verify, and shows the prefilled form or the blocked spinner.
//
// The token is judged in Go, not in JavaScript: /__qualcert/verify calls
// the Verify function the harness handed in (the reference verifier,
// package verify) and answers with the verdict and the participant fields,
// masked unless Reveal. The kit keeps no results: each verdict goes on the
// timeline (token.verified, with its findings and the iframe's number),
// where the judgement reads it. Everything the kit and the campaign do is
// put on the scenario's timeline with the timestamps the browser measured.
package kit

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
	"github.com/qualcert/qualcert/harness/verify"
)

//go:embed assets/kit.js assets/campaign.html
var assets embed.FS

// KitJS is the reference kit.
func KitJS() string { return mustAsset("assets/kit.js") }

// kitJS is the reference kit's loader. (The kit proper, which refuses an
// iframe on a host the profile does not name, runs in the recorder's
// isolated world: observe.RecorderJS. The hosts are filled in here too
// should the loader ever need them.)
func (s *Server) kitJS() string {
	hosts := []string{}
	for _, c := range s.cfg.Profile.Campaigns {
		hosts = append(hosts, strings.ToLower(c.Host))
	}
	b, _ := json.Marshal(hosts)
	return strings.Replace(KitJS(), "null; /*qualcert:hosts*/", string(b)+";", 1)
}

func mustAsset(name string) string {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("kit: embedded asset missing: " + name) // a build defect, caught by every test
	}
	return string(b)
}

var campaignTemplate = template.Must(template.New("campaign").Parse(mustAsset("assets/campaign.html")))

// LoaderPatterns are the Fetch URL patterns of the Qualifio loader.
var LoaderPatterns = []string{
	"*://files.qualifio.com/kit/qualp*",
	"*://*.qualifioapp.com/kit/qualp*",
}

// IsLoader reports whether u is a Qualifio loader URL on a Qualifio host.
func IsLoader(u *url.URL) bool {
	return IsQualifioHost(u.Hostname()) && isLoaderPath(u.Path)
}

// isLoaderPath reports whether p is the loader's path, /kit/qualp*.js: the
// path Qualifio's campaign feeds generate also on a publisher's CNAME
// (//jeux.example.com/kit/qualp.2.min.js).
func isLoaderPath(p string) bool {
	return strings.HasPrefix(p, "/kit/qualp") && strings.HasSuffix(p, ".js")
}

// IsQualifioHost reports whether host is one of Qualifio's own
// (files.qualifio.com, *.qualifio.com, *.qualifioapp.com).
func IsQualifioHost(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	for _, d := range []string{"qualifio.com", "qualifioapp.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// VerifyRequest is one token a campaign iframe asks the harness to judge.
type VerifyRequest struct {
	Div        string // the campaign's div id
	Frame      int    // the iframe's number in its document (kit.js counts them)
	CampaignID string // the profile's campaign id for that div
	Token      string // the raw token, as a string
}

// VerifyFunc judges one token (the reference verifier, and the user-info
// call for an access token). It must not return nil.
type VerifyFunc func(ctx context.Context, req VerifyRequest) *verify.Result

// Config is one scenario's kit.
type Config struct {
	Profile  *profile.Profile
	Verify   VerifyFunc // nil: every token is judged token.malformed ("no verifier")
	Timeline *timeline.Recorder
	Fault    finding.Code // the campaign reports this error whatever the token
	Reveal   bool         // show participant values in the form
}

// Server answers the intercepted requests of one scenario.
type Server struct {
	cfg   Config
	hosts map[string]bool
	nonce string // the scenario's secret, known to the campaign page only
}

// NonceHeader carries the campaign page's nonce on its calls to the harness.
const NonceHeader = "X-Qualcert-Nonce"

func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b)
}

// Nonce is the scenario's secret that the campaign page sends back (tests).
func (s *Server) Nonce() string { return s.nonce }

// New returns the kit server of one scenario.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, hosts: map[string]bool{}, nonce: newNonce()}
	for _, c := range cfg.Profile.Campaigns {
		s.hosts[strings.ToLower(c.Host)] = true
	}
	return s
}

// Patterns are the Fetch URL patterns to intercept: the loader, Qualifio's
// campaign hosts (*.qualifioapp.com: a plain campaign iframe of the
// "Iframe HTML" channel must get the reference campaign, not a DNS lookup)
// and every campaign host of the profile, over http and https.
func (s *Server) Patterns() []string {
	out := append([]string(nil), LoaderPatterns...)
	out = append(out, "*://*.qualifioapp.com/*")
	for _, c := range s.cfg.Profile.Campaigns {
		out = append(out, "*://"+c.Host+"/*")
	}
	return out
}

// IsCampaignHost reports whether host is one of the profile's campaign hosts.
func (s *Server) IsCampaignHost(host string) bool { return s.hosts[strings.ToLower(host)] }

// IsLoader reports whether u is a loader URL this server answers with the
// reference kit: /kit/qualp*.js on a Qualifio host or on a campaign host of
// the profile (the publisher's CNAME).
func (s *Server) IsLoader(u *url.URL) bool {
	return isLoaderPath(u.Path) && (IsQualifioHost(u.Hostname()) || s.IsCampaignHost(u.Hostname()))
}

// servesCampaigns reports whether the reference campaign is served on host:
// a campaign host of the profile, or a Qualifio host.
func (s *Server) servesCampaigns(host string) bool {
	return s.IsCampaignHost(host) || IsQualifioHost(host)
}

// ServeHTTP answers an intercepted request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := s.cfg.Timeline
	if s.IsLoader(r.URL) {
		rec.Add(timeline.Kit, timeline.KitRequest, "", map[string]any{"url": r.URL.String(), "host": strings.ToLower(r.URL.Hostname())})
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, s.kitJS())
		return
	}
	if !s.servesCampaigns(r.URL.Hostname()) {
		http.Error(w, "qualcert: not a campaign host", http.StatusNotFound)
		return
	}
	switch r.URL.Path {
	case "/__qualcert/verify", "/__qualcert/event":
		// Only the reference campaign page knows the scenario's nonce: the
		// publisher page is cross-origin to it and cannot read it, so a
		// page script cannot forge a prefilled form or a verdict.
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(NonceHeader)), []byte(s.nonce)) != 1 {
			s.cfg.Timeline.Add(timeline.Harness, timeline.KitError, "", map[string]any{"error": "refused a call to " + r.URL.Path + " without the campaign's nonce (forged by a page script?)"})
			http.Error(w, "qualcert: not from the campaign page", http.StatusForbidden)
			return
		}
		if r.URL.Path == "/__qualcert/verify" {
			s.serveVerify(w, r)
		} else {
			s.serveEvent(w, r)
		}
	case "/favicon.ico":
		w.WriteHeader(http.StatusNoContent)
	default:
		s.serveCampaign(w, r)
	}
}

// campaignView is what the campaign template shows.
type campaignView struct {
	Title, Brand, Initials, CampaignID string
	Config                             campaignConfig
}

type campaignConfig struct {
	Nonce   string `json:"nonce"` // proves an event or a token comes from the campaign page
	Div     string `json:"div"`
	Frame   int    `json:"frame,omitempty"`
	DelayMs int64  `json:"delay_ms"`
	Fault   string `json:"fault,omitempty"`
}

func (s *Server) serveCampaign(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, "/v1.cfm") {
		http.Error(w, "qualcert: the reference campaign lives at /<channelType>/<GUID>/v1.cfm", http.StatusNotFound)
		return
	}
	div := r.URL.Query().Get("div")
	frame, _ := strconv.Atoi(r.URL.Query().Get("frame"))
	c, _ := s.cfg.Profile.CampaignByDiv(div)
	brand := s.cfg.Profile.Name
	if u, err := url.Parse(brand); err == nil && u.Host != "" {
		brand = u.Hostname() // a profile named after its URL
	}
	if brand == "" {
		brand = "Publisher"
	}
	v := campaignView{
		Title: "Win a €500 gift card", Brand: brand, Initials: initials(brand), CampaignID: c.CampaignID,
		Config: campaignConfig{Nonce: s.nonce, Div: div, Frame: frame, DelayMs: s.cfg.Profile.Timing.GetMetaDataDelay.D().Milliseconds(), Fault: string(s.cfg.Fault)},
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := campaignTemplate.Execute(w, v); err != nil {
		s.cfg.Timeline.Add(timeline.Harness, timeline.KitError, div, map[string]any{"error": err.Error()})
	}
}

func initials(brand string) string {
	var out []rune
	for _, w := range strings.Fields(brand) {
		r, _ := utf8.DecodeRuneInString(w)
		out = append(out, r)
		if len(out) == 2 {
			break
		}
	}
	return strings.ToUpper(string(out))
}

// campaignEvents maps the events the campaign page may report to the
// timeline's vocabulary; anything else is refused.
var campaignEvents = map[string]string{
	"getMetaData":      timeline.GetMetaData,
	"metadata":         timeline.MetaData,
	"form.prefilled":   timeline.FormPrefilled,
	"campaign.blocked": timeline.Blocked,
	"error.message":    timeline.ErrorMessage,
}

type eventBody struct {
	Div   string         `json:"div"`
	Frame int            `json:"frame"`
	Event string         `json:"event"`
	T     float64        `json:"t"`
	Data  map[string]any `json:"data"`
}

func (s *Server) serveEvent(w http.ResponseWriter, r *http.Request) {
	var b eventBody
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&b); err != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	name, ok := campaignEvents[b.Event]
	if !ok {
		http.Error(w, "unknown event", http.StatusBadRequest)
		return
	}
	data := map[string]any{}
	for _, k := range []string{"code", "has_meta", "has_token", "fault", "fields"} {
		if v, ok := b.Data[k]; ok {
			data[k] = v
		}
	}
	if b.Frame > 0 {
		data["frame"] = b.Frame
	}
	rec := s.cfg.Timeline
	t := rec.FromEpochMs(b.T)
	if name == timeline.Blocked && data["fault"] == true {
		rec.AddAt(t, timeline.Harness, timeline.FaultInjected, b.Div, map[string]any{"code": data["code"]})
	}
	rec.AddAt(t, timeline.Campaign, name, b.Div, data)
	w.WriteHeader(http.StatusNoContent)
}

type verifyBody struct {
	Div    string          `json:"div"`
	Frame  int             `json:"frame"`
	JWT    json.RawMessage `json:"jwt"`
	Length int             `json:"length"` // of the whole token, when only its head was sent
	T      float64         `json:"t"`
}

// Field is one participant field as the campaign form shows it.
type Field struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	Value string `json:"value"`
}

type verifyAnswer struct {
	OK      bool    `json:"ok"`
	Code    string  `json:"code,omitempty"`
	Message string  `json:"message,omitempty"`
	Fields  []Field `json:"fields,omitempty"`
}

// maxVerifyBody bounds the /__qualcert/verify body: well above the 16 KiB
// token cap so that an oversized token is judged (token.too_large) rather
// than cut.
const maxVerifyBody = 1 << 20 // the campaign sends at most the token's first 64 KiB

func (s *Server) serveVerify(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxVerifyBody))
	var b verifyBody
	if err == nil {
		err = json.Unmarshal(raw, &b)
	}
	if err != nil {
		http.Error(w, "bad verify request", http.StatusBadRequest)
		return
	}
	res := s.judge(r.Context(), b)

	// The verdict of this iframe travels on the timeline, findings included
	// (their messages carry fingerprints and field names, never values).
	codes := []any{}
	findings := []any{}
	for _, f := range res.Findings {
		codes = append(codes, string(f.Code))
		findings = append(findings, map[string]any{"code": string(f.Code), "level": string(f.Level), "requirement": f.Requirement,
			"campaign": f.Campaign, "message": f.Message, "hint": f.Hint})
	}
	data := map[string]any{"fingerprint": res.Fingerprint, "format": res.Format, "mode": res.Mode, "valid": res.Valid(), "codes": codes, "findings": findings, "length": b.Length}
	if b.Frame > 0 {
		data["frame"] = b.Frame
	}
	s.cfg.Timeline.Add(timeline.Verifier, timeline.TokenVerified, b.Div, data)
	ans := verifyAnswer{OK: res.Valid()}
	if !ans.OK {
		for _, f := range res.Findings {
			if f.Level == finding.Must {
				ans.Code, ans.Message = string(f.Code), f.Message
				break
			}
		}
	} else {
		ans.Fields = s.fields(res)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// judge runs the verifier on the token of a verify request (or produces the
// finding for a missing or non-string token).
func (s *Server) judge(ctx context.Context, b verifyBody) *verify.Result {
	miss := func(code finding.Code, format string, args ...any) *verify.Result {
		f := finding.New(code, format, args...)
		f.Campaign = b.Div
		return &verify.Result{Fingerprint: "", Findings: []finding.Finding{f}}
	}
	trimmed := strings.TrimSpace(string(b.JWT))
	if trimmed == "" || trimmed == "null" {
		return miss(finding.TokenMissing, "setMetaData gave no token (null or undefined)")
	}
	var tok string
	if err := json.Unmarshal(b.JWT, &tok); err != nil {
		return miss(finding.SetMetaDataTokenNotString, "the token given to setMetaData is not a string")
	}
	if tok == "" {
		return miss(finding.TokenMissing, "setMetaData gave an empty token")
	}
	c, _ := s.cfg.Profile.CampaignByDiv(b.Div)
	var res *verify.Result
	if s.cfg.Verify != nil {
		res = s.cfg.Verify(ctx, VerifyRequest{Div: b.Div, Frame: b.Frame, CampaignID: c.CampaignID, Token: tok})
	}
	if res == nil {
		res = miss(finding.TokenMalformed, "no verifier configured")
		res.Fingerprint = finding.Fingerprint(tok)
	}
	if res.Fingerprint == "" {
		res.Fingerprint = finding.Fingerprint(tok)
	}
	for i := range res.Findings {
		if res.Findings[i].Campaign == "" {
			res.Findings[i].Campaign = b.Div
		}
	}
	return res
}

// fields lists the participant fields for the form: the profile's required
// and optional fields first, then any other the token carried.
func (s *Server) fields(res *verify.Result) []Field {
	var names []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	for _, n := range s.cfg.Profile.Fields.Required {
		add(n)
	}
	for _, n := range s.cfg.Profile.Fields.Optional {
		if _, ok := res.Fields[n]; ok {
			add(n)
		}
	}
	for _, n := range res.FieldNames {
		add(n)
	}
	var out []Field
	for _, n := range names {
		v := res.Fields[n]
		if !s.cfg.Reveal {
			v = Mask(v)
		}
		out = append(out, Field{Name: n, Label: Label(n), Value: v})
	}
	return out
}

// Mask hides a participant value entirely, keeping only its kind, so that a
// screenshot shows that the field was prefilled and nothing of the value:
// "jane@example.com" → "•••@•••", "Jane" → "•••". Even a first letter,
// next to the other fields, narrows down who the participant is.
func Mask(v string) string {
	switch {
	case v == "":
		return ""
	case strings.Contains(v, "@"):
		return "•••@•••"
	default:
		return "•••"
	}
}

var labels = map[string]string{
	"email": "Email", "firstname": "First name", "lastname": "Last name", "birthday": "Date of birth",
	"zip_code": "Postcode", "zipcode": "Postcode", "phone": "Phone", "city": "City", "country": "Country",
	"gender": "Gender", "address": "Address",
}

// Label is the form label of a field name.
func Label(name string) string {
	if l, ok := labels[strings.ToLower(name)]; ok {
		return l
	}
	l := strings.ReplaceAll(path.Base(name), "_", " ")
	if l == "" {
		return name
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// String describes the kit server (for errors and logs).
func (s *Server) String() string { return fmt.Sprintf("kit for %d campaign host(s)", len(s.hosts)) }
