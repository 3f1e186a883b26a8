package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-rod/rod/lib/launcher"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/dnstest"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
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
	expectWidgetCampaignShot(t, res)
	return res
}

// expectWidgetCampaignShot wants the campaign's screenshot of a run whose
// campaign lives in a widget iframe: the campaign iframe's box (650 px
// high, as the tag asked), found through the frames.
func expectWidgetCampaignShot(t *testing.T, res *Result) {
	t.Helper()
	for _, s := range res.Screenshots {
		if s.Campaign != testDiv {
			continue
		}
		if dir := os.Getenv("QUALCERT_SHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+"-"+s.Name), s.PNG, 0o644)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(s.PNG))
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if cfg.Height < 648 || cfg.Height > 652 || cfg.Width < 100 {
			t.Errorf("%s is %dx%d, want the campaign iframe's box (650 px high)", s.Name, cfg.Width, cfg.Height)
		}
		return
	}
	dumpTimeline(t, res)
	t.Errorf("no campaign screenshot of the campaign in the widget")
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

// greetingWidgetPage is widgetPage as the widget serves it to a logged-in
// reader: its own session knows her, it greets her by her first name and
// prefills its newsletter field with her e-mail (a value the page's
// script sets, not an attribute).
func greetingWidgetPage(tok string) string {
	return strings.Replace(widgetPage(tok), `<body class="widget">`, `<body class="widget"><p class="widget__hello">Bonjour Jane</p>
<form class="widget__newsletter"><input name="newsletter" type="email"></form>
<script>document.querySelector('input[name=newsletter]').value = 'jane@example.com';</script>`, 1)
}

// frameText is what each frame of the page shows of itself: its text and
// its form fields' values, read in an isolated world (maskPage's
// reach), by frame origin.
const frameText = `(function () {
  var t = document.body ? document.body.innerText : '';
  document.querySelectorAll('input, textarea').forEach(function (el) { t += '\n' + el.value; });
  return t;
})()`

// A widget of another origin greets the participant by the name its own
// session knows and prefills a field with her e-mail: page.png shows the
// widget, so its values are masked as the top document's are, whether
// the widget runs in the page's renderer or out of process; the
// evidence.masked event counts the places and the frames. Revealing, the
// widget keeps them.
func TestPageScreenshotMasksWidgetFrames(t *testing.T) {
	t.Parallel()
	isolated := siteIsolatedHarness(t)
	f := newFixture(t)
	widget := http.NewServeMux()
	widget.HandleFunc("/widgets/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, greetingWidgetPage(f.mint("111", nil)))
	})
	wsrv := httptest.NewServer(widget)
	t.Cleanup(wsrv.Close)
	// localhost: another site than the article's 127.0.0.1, out of process
	// where the browser isolates sites.
	base := strings.Replace(wsrv.URL, "127.0.0.1", "localhost", 1)
	u := f.page("/article-widget-hello", article("", `<iframe class="widget-frame" title="Concours" src="`+base+`/widgets/hello" style="width:100%;height:720px;border:0"></iframe>`))

	reveal := func(h *Harness) *Harness {
		opt := h.opt
		opt.Reveal = true
		rh := &Harness{b: h.b, opt: opt}
		t.Cleanup(rh.closing.Wait) // the scenarios' contexts, disposed of after Run
		return rh
	}
	for _, tc := range []struct {
		name   string
		h      *Harness
		oopifs bool
	}{
		{"in process", shared, false},
		{"out of process", isolated, true},
	} {
		for _, revealed := range []bool{false, true} {
			name := tc.name
			h := tc.h
			if revealed {
				name += " revealed"
				h = reveal(h)
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var texts []string
				var oop int
				sc := Scenario{Name: t.Name(), Profile: f.profile(u, 1), masked: func(ctx context.Context, s *browser.Session) {
					oop = s.OutOfProcessFrames()
					for _, fe := range s.EvalFrames(ctx, frameText) {
						if fe.Err != nil {
							t.Errorf("reading the frame of %s back: %v", fe.Origin, fe.Err)
							continue
						}
						var s string
						_ = json.Unmarshal(fe.Value, &s)
						texts = append(texts, fe.Origin+": "+s)
					}
				}}
				ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
				defer cancel()
				res, err := h.Run(ctx, sc)
				if err != nil {
					dumpTimeline(t, res)
					t.Fatal(err)
				}
				expectCodes(t, res)
				expectWidgetCampaignShot(t, res)
				if (oop > 0) != tc.oopifs {
					t.Fatalf("%d out-of-process iframes, want some: %v", oop, tc.oopifs)
				}
				widgetText := ""
				for _, s := range texts {
					if strings.HasPrefix(s, base+": ") {
						widgetText = s
					}
				}
				if widgetText == "" {
					t.Fatalf("the widget's frame was not read back: %q", texts)
				}
				masked, ok := timeline.First(res.Timeline, timeline.EvidenceMasked, "")
				if revealed {
					if ok {
						t.Errorf("revealing, the page was masked: %v", masked.Data)
					}
					if !strings.Contains(widgetText, "Bonjour Jane") || !strings.Contains(widgetText, "jane@example.com") {
						t.Errorf("revealing, the widget lost its values: %q", widgetText)
					}
					return
				}
				if !ok {
					dumpTimeline(t, res)
					t.Fatal("the page was not masked before its screenshot")
				}
				// The greeting and the field, in the widget's frame only
				// (the top document has no value; the reference campaign
				// shows them masked already).
				if masked.Data["masked"] != "2" || masked.Data["frames_masked"] != 1 || masked.Data["error"] != nil {
					t.Errorf("evidence.masked = %v, want 2 places in 1 frame, no error", masked.Data)
				}
				if n, _ := masked.Data["frames"].(int); n < 3 { // the article, the widget, the campaign
					t.Errorf("masked %v frames, want the article's, the widget's and the campaign's", masked.Data["frames"])
				}
				if !strings.Contains(widgetText, "Bonjour •••") {
					t.Errorf("the widget's greeting was not masked: %q", widgetText)
				}
				for _, s := range texts {
					if strings.Contains(s, "Jane") || strings.Contains(s, "jane@example.com") {
						t.Errorf("a frame still shows a participant value after masking: %q", s)
					}
				}
			})
		}
	}
}
