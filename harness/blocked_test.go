package harness

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// servePolicy serves html at path with extra response headers (a CSP set by
// the publisher's web server or CDN).
func (f *fixture) servePolicy(path, html string, headers map[string]string) string {
	f.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		for k, v := range headers {
			w.Header().Set(k, v)
		}
		fmt.Fprint(w, html)
	})
	return f.srv.URL + path
}

// article is a news article with the contest block, the way a CMS renders
// it: header, lede, the embed block with its div and the Qualifio tag, and
// the token pushed by the site's own script. head goes into <head>.
func article(head, block string) string {
	return `<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">` + head + `
<title>Grand jeu de l'été — Example Media</title>
<style>body{font-family:Georgia,serif;max-width:720px;margin:0 auto;padding:1rem}.embed{margin:2rem 0}</style>
</head><body>
<header class="site-header"><a href="/">Example Media</a><nav><a href="/sport">Sport</a> <a href="/culture">Culture</a></nav></header>
<main><article class="post">
<h1>Grand jeu de l'été : tentez de gagner un week-end</h1>
<p class="lede">Participez à notre concours et gagnez un séjour pour deux.</p>
<figure class="embed embed--qualifio">` + block + `</figure>
<p>Règlement complet disponible en fin d'article.</p>
</article></main>
<footer>© Example Media</footer>
</body></html>`
}

// qualifioBlock is the CMS's embed block: the div and Qualifio's tag, with
// the participant's token rendered by the server.
func qualifioBlock(tok string) string {
	return `<div id="` + testDiv + `"></div>
<script type="text/javascript">
window._qual_async = window._qual_async || [];
_qual_async.push(['createIframe', '` + testDiv + `', '` + testHost + `', 'channel', 'A1B2C3', '100%', '650', '', '', '', 'margin:0 auto;']);
_qual_async.push(['setMetaData', 'JWT', '` + tok + `', '` + testDiv + `']);
(function(d,t){var s=d.createElement(t);s.async=true;s.src='https://files.qualifio.com/kit/qualp.2.min.js';var x=d.getElementsByTagName(t)[0];x.parentNode.insertBefore(s,x);})(document,'script');
</script>`
}

func wantBlockedByPage(t *testing.T, res *Result, err error, says string, caused ...finding.Code) {
	t.Helper()
	if err != nil {
		dumpTimeline(t, res)
		t.Fatalf("a page that stops its own campaign is failed, not broken: %v", err)
	}
	var found bool
	for _, f := range res.Findings {
		if f.Code == finding.CampaignBlockedByPage {
			found = true
			if !strings.Contains(f.Message, says) {
				dumpTimeline(t, res)
				t.Fatalf("campaign.blocked_by_page says %q, want it to say %q", f.Message, says)
			}
		}
	}
	if !found {
		dumpTimeline(t, res)
		t.Fatalf("no campaign.blocked_by_page in %v", codes(res))
	}
	for _, c := range caused {
		i := -1
		for j, f := range res.Findings {
			if f.Code == c {
				i = j
			}
		}
		if i < 0 {
			dumpTimeline(t, res)
			t.Fatalf("no %s in %v", c, codes(res))
		}
		if res.Findings[i].CausedBy != finding.CampaignBlockedByPage {
			t.Fatalf("%s caused by %q, want campaign.blocked_by_page", c, res.Findings[i].CausedBy)
		}
	}
	if _, ok := timeline.First(res.Timeline, timeline.Timeout, ""); ok {
		dumpTimeline(t, res)
		t.Fatal("the run waited for its timeout")
	}
	if testing.Verbose() {
		dumpTimeline(t, res)
	}
}

// A CSP that lists the site's own frames (a video player, a map) and not
// the campaign host: the campaign's iframe is refused.
func TestCSPFrameSrcHeaderBlocksTheCampaign(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.servePolicy("/concours", article("", qualifioBlock(f.mint("111", nil))), map[string]string{
		"Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline' https://files.qualifio.com; frame-src 'self' https://www.youtube-nocookie.com https://player.vimeo.com; img-src 'self' data:",
	})
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	wantBlockedByPage(t, res, err, "frame-src, set in its Content-Security-Policy header")
}

// The same policy in a <meta http-equiv> tag of the theme's <head>.
func TestCSPMetaChildSrcBlocksTheCampaign(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	meta := `<meta http-equiv="Content-Security-Policy" content="child-src 'self' https://www.google.com/recaptcha/">`
	u := f.page("/concours-meta", article(meta, qualifioBlock(f.mint("111", nil))))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	wantBlockedByPage(t, res, err, "<meta http-equiv")
}

// A strict CSP with a nonce: the inline tag runs (it carries the nonce),
// the loader it inserts from files.qualifio.com is refused.
func TestCSPScriptSrcBlocksTheLoader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	block := strings.Replace(qualifioBlock(f.mint("111", nil)), `<script type="text/javascript">`, `<script type="text/javascript" nonce="r4nd0m">`, 1)
	u := f.servePolicy("/concours-nonce", article("", block), map[string]string{
		"Content-Security-Policy": "script-src 'nonce-r4nd0m' 'strict-dynamic' https:; object-src 'none'; base-uri 'self'",
	})
	// strict-dynamic would trust the loader the nonced script inserts:
	// this policy lists no strict-dynamic-free source for it.
	u = f.servePolicy("/concours-nonce-strict", article("", block), map[string]string{
		"Content-Security-Policy": "script-src 'self' 'nonce-r4nd0m'; object-src 'none'; base-uri 'self'",
	})
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	wantBlockedByPage(t, res, err, "script-src", finding.KitMissing)
}

// A report-only policy reports and blocks nothing: the campaign prefills.
func TestCSPReportOnlyBlocksNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.servePolicy("/concours-ro", article("", qualifioBlock(f.mint("111", nil))), map[string]string{
		"Content-Security-Policy-Report-Only": "frame-src 'self'; report-uri /csp-report",
	})
	f.mux.HandleFunc("/csp-report", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
}

// The CMS renders its "HTML embed" block in a sandboxed srcdoc iframe
// without allow-scripts: the tag never runs.
func TestSandboxedEmbedBlockStopsTheTag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inner := `<!doctype html><html><body>` + qualifioBlock(f.mint("111", nil)) + `</body></html>`
	esc := strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;").Replace(inner)
	block := `<div class="cms-embed" data-embed-type="html"><iframe class="cms-embed__frame" sandbox="allow-forms allow-popups" title="Concours" style="width:100%;height:700px;border:0" srcdoc="` + esc + `"></iframe></div>`
	u := f.page("/concours-sandbox", article("", block))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	wantBlockedByPage(t, res, err, "sandbox", finding.KitMissing)
}

// A CSP sandbox directive without allow-scripts (a security header set on
// the whole site by the CDN): no script of the page runs.
func TestCSPSandboxStopsTheTag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.servePolicy("/concours-cdn", article("", qualifioBlock(f.mint("111", nil))), map[string]string{
		"Content-Security-Policy": "sandbox allow-forms allow-same-origin",
	})
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	wantBlockedByPage(t, res, err, "sandbox", finding.KitMissing)
}

// A front-end framework hydrates the article and replaces the server's
// markup of the embed block after the kit created the iframe: the
// campaign's iframe is gone with its div.
func TestDivRemovedAfterCreateIframe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hydrate := `<script>
// "hydration": the client re-renders the post body from its JSON state,
// without the embed (the block type is unknown to the client renderer).
window.addEventListener('load', function () {
  requestAnimationFrame(function () {
    var fig = document.querySelector('figure.embed');
    var fresh = document.createElement('figure');
    fresh.className = 'embed embed--unsupported';
    fresh.innerHTML = '<p>Contenu indisponible.</p>';
    fig.replaceWith(fresh);
  });
});
</script>`
	u := f.page("/concours-spa", article(hydrate, qualifioBlock(f.mint("111", nil))))
	p := f.profile(u, 1)
	p.Timing.GetMetaDataDelay = 0
	res, err := runScenario(t, Scenario{Profile: p})
	wantBlockedByPage(t, res, err, "removed")
}

// The embed block served by the CMS's embed endpoint (same origin, or its
// embed host) in an iframe sandboxed without allow-scripts: the tag in it
// never runs, whatever the frame's origin.
func TestSandboxedEmbedFrameStopsTheTag(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mux.HandleFunc("/embed/block/945", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><head><meta charset="utf-8"></head><body class="embed-body">`+qualifioBlock(f.mint("111", nil))+`</body></html>`)
	})
	// The CMS's embed host: another origin (and site) on the same server.
	embedHost := strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)
	for name, src := range map[string]string{"same-origin": "/embed/block/945", "cross-origin": embedHost + "/embed/block/945"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			block := `<div class="cms-embed" data-embed-type="url"><iframe class="cms-embed__frame" sandbox="allow-forms allow-popups allow-same-origin" title="Concours" loading="eager" style="width:100%;height:700px;border:0" src="` + src + `?ref=article"></iframe></div>`
			u := f.page("/concours-embed-"+name, article("", block))
			res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
			wantBlockedByPage(t, res, err, "where no script may run", finding.KitMissing)
		})
	}
}

// A sandbox that lets scripts run but not keep the frame's origin
// (allow-scripts without allow-same-origin, a common "safe embed"
// setting): the tag runs with an opaque origin, and the campaign's iframe
// its kit creates inherits the sandbox, without its cookies and storage.
func TestOpaqueSandboxedEmbedBlock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inner := `<!doctype html><html><body>` + qualifioBlock(f.mint("111", nil)) + `</body></html>`
	f.mux.HandleFunc("/embed/safe/945", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, inner)
	})
	esc := strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;").Replace(inner)
	for name, attr := range map[string]string{
		"srcdoc": `srcdoc="` + esc + `"`,
		"src":    `src="/embed/safe/945"`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			block := `<div class="cms-embed"><iframe class="cms-embed__frame" sandbox="allow-scripts allow-forms allow-popups" title="Concours" style="width:100%;height:700px;border:0" ` + attr + `></iframe></div>`
			u := f.page("/concours-safe-"+name, article("", block))
			res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
			wantBlockedByPage(t, res, err, "without allow-same-origin", finding.KitMissing)
		})
	}
}
