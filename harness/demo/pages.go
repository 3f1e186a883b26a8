package demo

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"log"
	"net/http"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
)

//go:embed templates/*.html static/site.css
var assets embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"year":  func() int { return time.Now().Year() },
	"level": codeLevel,
}).ParseFS(assets, "templates/*.html"))

// kitURL is the Qualifio loader the tag loads, exactly as in the reference
// doc; the harness intercepts it in the browser.
const kitURL = "https://files.qualifio.com/kit/qualp.2.min.js"

// chrome is what every page's header needs.
type chrome struct {
	Title    string
	LoggedIn bool
	Name     string // the participant's first name
	Path     string // the current path, for the login link's next
}

func (s *Server) chrome(r *http.Request, title string) chrome {
	p, ok := s.participantOf(r)
	return chrome{Title: title, LoggedIn: ok, Name: p.FirstName, Path: r.URL.Path}
}

type loginData struct {
	Next, Email, Password, Error, Typed string
}

type indexData struct {
	chrome
	Good, Faulty []variantCard
	URL          string
	Email        string
	Password     string
}

type variantCard struct {
	Variant
	Codes []string
}

type variantData struct {
	chrome
	V          variantCard
	Campaigns  []campaign
	HeadScript template.HTML // before any other script: the error listener, a queued setMetaData
	Tag        template.HTML // the campaign divs and the Qualifio JS tag
	Published  string
}

// render executes page name into a buffer first, so that a template error
// never sends half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	var err error
	switch d := data.(type) {
	case loginData:
		err = pages.ExecuteTemplate(&buf, name, struct {
			chrome
			loginData
		}{s.chrome(r, "Log in"), d})
	case participant:
		err = pages.ExecuteTemplate(&buf, name, struct {
			chrome
			P participant
		}{s.chrome(r, "My account"), d})
	default:
		err = pages.ExecuteTemplate(&buf, name, data)
	}
	if err != nil {
		log.Printf("demo: rendering %s: %v", name, err)
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func card(v Variant) variantCard {
	vc := variantCard{Variant: v}
	for _, c := range v.Expect {
		vc.Codes = append(vc.Codes, string(c))
	}
	return vc
}

func (s *Server) handleIndex(w http.ResponseWriter, r *http.Request) {
	d := indexData{chrome: s.chrome(r, "Integration gallery"), URL: s.URL, Email: alice.Email, Password: alice.Password}
	for _, v := range s.Variants() {
		if v.Good {
			d.Good = append(d.Good, card(v))
		} else {
			d.Faulty = append(d.Faulty, card(v))
		}
	}
	s.render(w, r, http.StatusOK, "index", d)
}

func (s *Server) handleVariant(w http.ResponseWriter, r *http.Request) {
	v, ok := variantBySlug(r.PathValue("slug"))
	if !ok {
		http.Error(w, "no such page", http.StatusNotFound)
		return
	}
	p, loggedIn := s.participantOf(r)
	tokens := map[string]string{} // div id → token, for a logged-in participant
	if loggedIn {
		for _, c := range v.campaigns() {
			tok, err := s.mint(v, c, p, time.Now())
			if err != nil {
				log.Printf("demo: %s: %v", v.Slug, err)
				http.Error(w, "minting the participant's token failed", http.StatusInternalServerError)
				return
			}
			tokens[c.DivID] = tok
		}
	}
	d := variantData{
		chrome:     s.chrome(r, v.Title),
		V:          card(v),
		Campaigns:  v.campaigns(),
		HeadScript: template.HTML(headScript(v, tokens)),
		Tag:        template.HTML(tagMarkup(v, tokens)),
		Published:  time.Now().Format("2 January 2006"),
	}
	s.render(w, r, http.StatusOK, "variant", d)
}

// jsQuote writes s as a single-quoted JavaScript string literal that is also
// safe inside an HTML <script> element.
func jsQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '-', r == '_', r == '.', r == ' ', r == '%', r == ':', r == ';', r == '/', r == '?', r == '=':
			b.WriteRune(r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// divArgument is setMetaData's fourth argument as the variant writes it.
func divArgument(v Variant, c campaign) string {
	switch v.b.div {
	case divElement:
		return c.DivID // a bare identifier: the browser's named access gives the element
	case divWrong:
		return jsQuote("qualifio_insert_place_" + c.CampaignID)
	default:
		return jsQuote(c.DivID)
	}
}

func setMetaData(v Variant, c campaign, tokenJS string) string {
	return fmt.Sprintf("_qual_async.push(['setMetaData', 'JWT', %s, %s]);", tokenJS, divArgument(v, c))
}

// errorListener is what a good page does with the campaign's error message
// (PROTOCOL.md: {qualifio:true, type:'qualifio:error', divId, code}): it
// checks the sender is one of its campaigns, shows a banner asking the
// participant to log in again, and hands that campaign one fresh token, once.
const errorListener = `(function () {
  var campaigns = %s;
  var renewed = {};
  function banner(code) {
    var el = document.getElementById('dm-session-banner');
    if (!el) {
      el = document.createElement('div');
      el.id = 'dm-session-banner';
      el.className = 'banner';
      el.setAttribute('role', 'alert');
      var where = document.querySelector('.campaigns') || document.body;
      where.insertBefore(el, where.firstChild);
    }
    el.innerHTML = '<strong>We could not confirm your Demo Media session.</strong> ' +
      'Please <a href="/login?next=' + encodeURIComponent(location.pathname) + '">log in again</a> to take part.';
    el.setAttribute('data-code', String(code || ''));
  }
  window.addEventListener('message', function (e) {
    var d = e.data;
    if (!d || d.qualifio !== true || d.type !== 'qualifio:error') return;
    var host;
    try { host = new URL(e.origin).hostname; } catch (err) { return; }
    if (campaigns[d.divId] !== host) return;
    banner(d.code);
    if (renewed[d.divId]) return;
    renewed[d.divId] = true;
    fetch(%s + '&div=' + encodeURIComponent(d.divId), {credentials: 'same-origin'})
      .then(function (r) { if (!r.ok) throw new Error('token endpoint: HTTP ' + r.status); return r.json(); })
      .then(function (t) { window._qual_async = window._qual_async || []; _qual_async.push(['setMetaData', 'JWT', t.token, d.divId]); })
      .catch(function () { /* not logged in any more: the banner already says what to do */ });
  });
})();
`

// headScript is the script in <head>, before any other: the error listener
// of good pages, and queued-before-loader's early setMetaData.
func headScript(v Variant, tokens map[string]string) string {
	var b strings.Builder
	if v.b.handlesErrors {
		var hosts []string
		for _, c := range v.campaigns() {
			hosts = append(hosts, jsQuote(c.DivID)+": "+jsQuote(c.Host))
		}
		fmt.Fprintf(&b, errorListener, "{"+strings.Join(hosts, ", ")+"}", jsQuote(tokenPath+"?variant="+v.Slug))
	}
	if v.b.push == pushQueued {
		for _, c := range v.campaigns() {
			if tok, ok := tokens[c.DivID]; ok {
				b.WriteString("window._qual_async = window._qual_async || [];\n")
				b.WriteString(setMetaData(v, c, jsQuote(tok)) + "\n")
			}
		}
	}
	if b.Len() == 0 {
		return ""
	}
	return "<script>\n" + b.String() + "</script>"
}

// tagMarkup is the campaign divs and the Qualifio JS tag, written as the
// reference doc's snippet, followed by the variant's setMetaData.
func tagMarkup(v Variant, tokens map[string]string) string {
	var b strings.Builder
	for _, c := range v.campaigns() {
		if len(v.campaigns()) > 1 {
			fmt.Fprintf(&b, "<h3 class='campaign-title'>%s</h3>", template.HTMLEscapeString(c.Title))
		}
		fmt.Fprintf(&b, "<div id='%s' class='qualifio_iframe_wrapper'></div>", c.DivID)
	}
	b.WriteString("<script type='text/javascript'>(function(b,o,n,u,s){var a,t;a=b.createElement(u);a.async=1;a.src=s;t=b.getElementsByTagName(u)[0];t.parentNode.insertBefore(a,t);o[n]=o[n]||[]}) (document,window,'_qual_async','script','" + kitURL + "');")
	for _, c := range v.campaigns() {
		fmt.Fprintf(&b, "_qual_async.push(['createIframe',%s,%s,'20',%s,'100%%','1200','','','','max-width:810px;margin:0 auto;']);",
			jsQuote(c.DivID), jsQuote(c.Host), jsQuote(c.GUID))
	}
	for _, c := range v.campaigns() {
		tok, loggedIn := tokens[c.DivID]
		switch v.b.push {
		case pushWithTag:
			if loggedIn {
				b.WriteString(setMetaData(v, c, jsQuote(tok)))
			}
		case pushEmptyIfOut:
			b.WriteString(setMetaData(v, c, jsQuote(tok))) // '' for a visitor with no session
		case pushLate:
			if loggedIn {
				fmt.Fprintf(&b, "\nfetch(%s, {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (t) { %s }).catch(function () {});",
					jsQuote(tokenPath+"?variant="+v.Slug+"&div="+c.DivID), setMetaData(v, c, "t.token"))
			}
		}
		if v.b.leaks && loggedIn {
			fmt.Fprintf(&b, "\n(new Image(1, 1)).src = 'http://localhost:' + location.port + '%s?ev=campaign_view&page=' + encodeURIComponent(location.pathname) + '&t=' + encodeURIComponent(%s);",
				pixelPath, jsQuote(tok))
		}
	}
	b.WriteString("</script>")
	return b.String()
}

// codeLevel is the level of a code, for the index's badges.
func codeLevel(c string) string {
	if spec, ok := finding.Lookup(finding.Code(c)); ok {
		return string(spec.Level)
	}
	return ""
}
