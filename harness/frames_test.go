package harness

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A CMS that renders the contest block inside an iframe of the page's own
// origin (a srcdoc "HTML embed" block, or an embed endpoint of the site)
// runs the tag there: the kit and the recorder follow the tag into that
// frame, and the campaign is judged as anywhere else.
func TestTagInASameOriginIframe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	embed := func(tok string) string {
		return `<!doctype html><html><head><meta charset="utf-8"><base target="_top">
<style>html,body{margin:0;font-family:system-ui,sans-serif}.wp-block-html{padding:0}</style></head>
<body class="embed-body"><div class="wp-block-html">` + qualifioBlock(tok) + `</div>
<script>
// the CMS's auto-height helper: tells the parent the embed's height
new ResizeObserver(function () { parent.postMessage({ type: 'cms:embed-height', h: document.body.scrollHeight }, '*'); }).observe(document.body);
</script></body></html>`
	}
	resize := `<script>
window.addEventListener('message', function (e) {
  if (e.origin === location.origin && e.data && e.data.type === 'cms:embed-height') {
    document.querySelectorAll('iframe.cms-embed').forEach(function (f) { f.style.height = (e.data.h + 20) + 'px'; });
  }
});
</script>`
	esc := strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;")
	srcdoc := f.page("/article-srcdoc", article(resize, `<iframe class="cms-embed" title="Grand jeu" loading="eager" style="width:100%;height:720px;border:0" srcdoc="`+esc.Replace(embed(f.mint("111", nil)))+`"></iframe>`))
	f.mux.HandleFunc("/embed/block/945", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, embed(f.mint("111", nil)))
	})
	src := f.page("/article-src", article(resize, `<iframe class="cms-embed" title="Grand jeu" src="/embed/block/945?ref=article" style="width:100%;height:720px;border:0"></iframe>`))
	for name, u := range map[string]string{"srcdoc": srcdoc, "src": src} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
			if err != nil {
				dumpTimeline(t, res)
				t.Fatal(err)
			}
			expectCodes(t, res)
			if c := campaignOf(t, res, testDiv); c.Outcome != "prefilled" {
				dumpTimeline(t, res)
				t.Fatalf("outcome %s, want prefilled", c.Outcome)
			}
		})
	}
}

// The same block with a late token: the frame's setMetaData is judged
// like the top page's (setmetadata.late), not missed.
func TestLateTokenInASameOriginIframe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	f.mux.HandleFunc("/api/qualifio-token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jwt":%q}`, tok)
	})
	block := `<div id="` + testDiv + `"></div>
<script>
window._qual_async = window._qual_async || [];
_qual_async.push(['createIframe', '` + testDiv + `', '` + testHost + `', 'channel', 'A1B2C3', '100%', '650', '', '', '', '']);
(function(d,t){var s=d.createElement(t);s.async=true;s.src='https://files.qualifio.com/kit/qualp.2.min.js';var x=d.getElementsByTagName(t)[0];x.parentNode.insertBefore(s,x);})(document,'script');
// the token fetched after the campaign had time to ask
window.addEventListener('message', function (e) {
  if (e.data && e.data.qualifio && e.data.type === 'qualifio:getMetaData') {
    fetch('/api/qualifio-token').then(function (r) { return r.json(); }).then(function (j) {
      _qual_async.push(['setMetaData', 'JWT', j.jwt, '` + testDiv + `']);
    });
  }
});
</script>`
	f.mux.HandleFunc("/embed/late", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html><body>`+block+`</body></html>`)
	})
	u := f.page("/article-late", article("", `<iframe class="cms-embed" src="/embed/late" style="width:100%;height:720px;border:0"></iframe>`))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res, "campaign.blocked", "setmetadata.late")
}

// writtenFrame is the ad-slot pattern of many CMSs and tag managers: the
// page creates an empty iframe, appends it, and writes the block into its
// about:blank document (document.open/write/close). Chromium creates no
// new document for that, so nothing injected "on new document" runs in
// it: the harness follows the frame when the tag in it asks for the kit.
func writtenFrame(inner string) string {
	js, _ := json.Marshal(`<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0;font-family:system-ui,sans-serif}</style></head><body class="slot-body">` + inner + `</body></html>`)
	return `<div id="slot-concours" class="ad-slot ad-slot--native" data-slot="article-native-1"></div>
<script>
(function () {
  var slot = document.getElementById('slot-concours');
  var f = document.createElement('iframe');
  f.title = 'Concours';
  f.setAttribute('scrolling', 'no');
  f.setAttribute('frameborder', '0');
  f.style.cssText = 'width:100%;height:720px;border:0;display:block';
  slot.appendChild(f);
  var d = f.contentDocument || f.contentWindow.document;
  d.open();
  d.write(` + string(js) + `);
  d.close();
})();
</script>`
}

// A tag written into an about:blank iframe is followed into it: the
// token it carries prefills the campaign.
func TestTagInADocumentWrittenIframe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/article-slot", article("", writtenFrame(qualifioBlock(f.mint("111", nil)))))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)
	if c := campaignOf(t, res, testDiv); c.Outcome != "prefilled" {
		dumpTimeline(t, res)
		t.Fatalf("outcome %s, want prefilled", c.Outcome)
	}
	if testing.Verbose() {
		dumpTimeline(t, res)
	}
}

// The same slot with the token fetched only once the campaign asked: the
// frame's setMetaData is judged late, not missed.
func TestLateTokenInADocumentWrittenIframe(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	f.mux.HandleFunc("/api/qualifio-token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"jwt":%q}`, tok)
	})
	block := `<div id="` + testDiv + `"></div>
<script>
window._qual_async = window._qual_async || [];
_qual_async.push(['createIframe', '` + testDiv + `', '` + testHost + `', 'channel', 'A1B2C3', '100%', '650', '', '', '', '']);
(function(d,t){var s=d.createElement(t);s.async=true;s.src='https://files.qualifio.com/kit/qualp.2.min.js';var x=d.getElementsByTagName(t)[0];x.parentNode.insertBefore(s,x);})(document,'script');
window.addEventListener('message', function (e) {
  if (e.data && e.data.qualifio && e.data.type === 'qualifio:getMetaData') {
    fetch('/api/qualifio-token').then(function (r) { return r.json(); }).then(function (j) {
      _qual_async.push(['setMetaData', 'JWT', j.jwt, '` + testDiv + `']);
    });
  }
});
</script>`
	u := f.page("/article-slot-late", article("", writtenFrame(block)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res, "campaign.blocked", "setmetadata.late")
}
