package harness

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/launcher"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/dnstest"
	"github.com/qualcert/qualcert/harness/profile"
)

// widgetPage is an article widget as a publisher's other host serves it:
// a page of its own with Qualifio's standard tag (the div, the _qual_async
// queue, the loader from files.qualifio.com, setMetaData with the token).
func widgetPage(tok string) string {
	return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Concours — widget</title>
<style>html,body{margin:0;font-family:system-ui,sans-serif}</style></head>
<body class="widget"><div class="widget__contest">
<div id="` + testDiv + `"></div>
<script type="text/javascript">
var _qual_async = _qual_async || [];
_qual_async.push(['createIframe', '` + testDiv + `', '` + testHost + `', 'channel', 'A1B2C3', '100%', '650', '', '', '', '']);
_qual_async.push(['setMetaData', 'JWT', '` + tok + `', '` + testDiv + `']);
(function () {
  var s = document.createElement('script'); s.type = 'text/javascript'; s.async = true;
  s.src = 'https://files.qualifio.com/kit/qualp.2.min.js';
  var x = document.getElementsByTagName('script')[0]; x.parentNode.insertBefore(s, x);
})();
</script></div></body></html>`
}

// widgetSite serves the widget page on a server of its own (another
// origin than the fixture's article) and returns the widget's base URLs:
// "cross-site" on localhost (another site than the article's 127.0.0.1),
// "same-site" on 127.0.0.1 (the same site, another port: another origin).
func widgetSite(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	widget := http.NewServeMux()
	widget.HandleFunc("/widgets/concours/945", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, widgetPage(f.mint("111", nil)))
	})
	// The same widget whose server renders an expired token.
	widget.HandleFunc("/widgets/concours/expired", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		past := time.Now().Add(-time.Hour).Unix()
		fmt.Fprint(w, widgetPage(f.mint("111", map[string]any{"iat": past - 600, "exp": past})))
	})
	wsrv := httptest.NewServer(widget)
	t.Cleanup(wsrv.Close)
	return map[string]string{
		"cross-site": strings.Replace(wsrv.URL, "127.0.0.1", "localhost", 1),
		"same-site":  wsrv.URL,
	}
}

// widgetArticle is the publisher's article embedding the widget of base.
func widgetArticle(f *fixture, name, base string) string {
	return f.page("/article-widget-"+name, article("", `<iframe class="widget-frame" title="Concours" src="`+base+`/widgets/concours/945?article=12" style="width:100%;height:720px;border:0"></iframe>`))
}

// expectWidgetPrefilled runs the article and wants it passed: the tag in
// the widget was followed, its token prefilled the campaign.
func expectWidgetPrefilled(t *testing.T, h *Harness, p *profile.Profile) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	res, err := h.Run(ctx, Scenario{Name: t.Name(), Profile: p})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)
	if c := campaignOf(t, res, testDiv); c.Outcome != "prefilled" {
		dumpTimeline(t, res)
		t.Fatalf("outcome %s, want prefilled", c.Outcome)
	}
	return res
}

// A publisher's article (127.0.0.1) embeds an article widget served by
// another host of its own, not sandboxed, and the widget carries the
// Qualifio tag: the real kit runs in the widget, creates the campaign in
// the widget's div and hands it the token. The harness follows the tag
// into the widget, as into a frame of the page's own origin: passed, not
// kit.missing. The launched browser keeps such frames in the page's
// process.
func TestTagInACrossOriginWidget(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	sites := widgetSite(t, f)
	for name, base := range sites {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expectWidgetPrefilled(t, shared, f.profile(widgetArticle(f, name, base), 1))
		})
	}
	// Followed is judged, not waved through: the widget's expired token
	// fails as it would in the top page.
	t.Run("expired token", func(t *testing.T) {
		t.Parallel()
		u := f.page("/article-widget-expired", article("", `<iframe class="widget-frame" title="Concours" src="`+sites["cross-site"]+`/widgets/concours/expired" style="width:100%;height:720px;border:0"></iframe>`))
		res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
		if err != nil {
			dumpTimeline(t, res)
			t.Fatal(err)
		}
		expectCodes(t, res, "campaign.blocked", "token.expired")
	})
}

// The same article in a browser that isolates sites (a remote browser,
// a grid node with Chromium's defaults): the cross-site widget runs out
// of process, in a target the session attaches to, paused, and wires as
// the tab (recorder and page shim, binding, interception) before it
// resumes. The same-site widget stays in the page's process.
func TestTagInAnOutOfProcessWidget(t *testing.T) {
	t.Parallel()
	h := siteIsolatedHarness(t)
	f := newFixture(t)
	for name, base := range widgetSite(t, f) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			expectWidgetPrefilled(t, h, f.profile(widgetArticle(f, name, base), 1))
		})
	}
}

// siteIsolatedHarness starts a Chromium with site isolation on (as a
// remote browser or a grid node runs it by default) and a harness
// connected to it. Every name but the loopback ones is mapped to nowhere:
// what the interception missed fails instead of leaving the machine.
func siteIsolatedHarness(t *testing.T) *Harness {
	t.Helper()
	bin, err := browser.FindBinary("")
	if err != nil {
		t.Skip(err)
	}
	l := launcher.New().Bin(bin).Leakless(false).UserDataDir(t.TempDir()).Headless(true).NoSandbox(true).
		Delete("disable-site-isolation-trials").Delete("disable-features").Set("site-per-process").
		Set("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost").
		Set("disable-background-networking").Set("disable-component-update").Set("disable-sync").Set("no-first-run").Set("disable-quic")
	u, err := l.Launch()
	if err != nil {
		t.Fatal(err)
	}
	pid := l.PID()
	t.Cleanup(func() {
		l.Kill()
		l.Cleanup()
		if left := browser.Processes(pid); len(left) > 0 {
			t.Errorf("site-isolated browser processes left: %v", left)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := Start(ctx, Options{BrowserURL: u, Resolver: dnstest.NXDomain()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("closing the harness: %v", err)
		}
	})
	return h
}
