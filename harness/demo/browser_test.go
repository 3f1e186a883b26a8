package demo

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	hbrowser "github.com/qualcert/qualcert/harness/browser"
)

// stubKit is a minimal stand-in for the Qualifio kit, enough to run the
// demo's pages in a real browser without the harness: it replays and records
// the _qual_async queue and creates the campaign iframes.
const stubKit = `(function () {
  var queued = window._qual_async || [];
  window.__calls = [];
  function run(c) {
    var div = c[3];
    if (c[0] === 'setMetaData') {
      div = (div && typeof div === 'object') ? 'element:' + div.id : div;
      window.__calls.push({cmd: c[0], type: c[1], tokenLength: typeof c[2] === 'string' ? c[2].length : -1, div: div});
      return;
    }
    window.__calls.push({cmd: c[0], div: c[1], host: c[2]});
    if (c[0] === 'createIframe') {
      var f = document.createElement('iframe');
      f.src = location.protocol + '//' + c[2] + '/' + c[3] + '/' + c[4] + '/v1.cfm?id=' + c[4] + '&div=' + encodeURIComponent(c[1]);
      f.style.cssText = 'width:100%;height:140px;border:0;' + (c[10] || '');
      document.getElementById(c[1]).appendChild(f);
    }
  }
  queued.forEach(run);
  window._qual_async = {push: run};
})();`

// stubCampaign reports token.expired to its parent as soon as it loads, the
// way the reference campaign reports an error (PROTOCOL.md).
const stubCampaign = `<!doctype html><body style="font:14px sans-serif;background:#f4f1fb;margin:0;padding:20px;color:#3b2a5c">
<strong>Summer Jazz Festival contest</strong> (stub campaign)<p>You are blocked at the authentication step.</p>
<script>parent.postMessage({qualifio: true, type: 'qualifio:error', divId: new URLSearchParams(location.search).get('div'), code: 'token.expired', message: 'stub'}, '*');</script>`

// TestPagesInChromium runs variant pages in headless Chromium with a stub
// kit and a stub campaign that always reports an error: the scripts run
// without error, setMetaData is called as declared, good pages react once
// (banner and one fresh token per campaign), the others do not.
func TestPagesInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if _, err := hbrowser.FindBinary(""); err != nil {
		t.Skipf("no Chromium: %v", err)
	}
	s := startDemo(t)
	// The project's own launcher: Debian's Chromium, its own process group,
	// a temporary profile removed at Close.
	launched, err := hbrowser.Launch(t.Context(), hbrowser.Config{})
	if err != nil {
		t.Fatalf("launching Chromium: %v", err)
	}
	t.Cleanup(func() {
		if err := launched.Close(); err != nil {
			t.Error(err)
		}
	})
	browser := launched.Rod().Context(t.Context())

	var mu sync.Mutex
	var pixels []string
	router := browser.HijackRequests()
	router.MustAdd("*://files.qualifio.com/kit/*", func(h *rod.Hijack) {
		h.Response.SetHeader("Content-Type", "application/javascript").SetBody(stubKit)
	})
	router.MustAdd("*.demo-media.test/*", func(h *rod.Hijack) {
		h.Response.SetHeader("Content-Type", "text/html; charset=utf-8").SetBody(stubCampaign)
	})
	router.MustAdd("http://localhost:*/pixel.gif*", func(h *rod.Hijack) {
		mu.Lock()
		pixels = append(pixels, h.Request.URL().String())
		mu.Unlock()
		h.Response.SetHeader("Content-Type", "image/gif").SetBody(gif1x1)
	})
	router.MustAdd("*", func(h *rod.Hijack) { h.ContinueRequest(&proto.FetchContinueRequest{}) })
	go router.Run()
	t.Cleanup(func() { router.Stop() })

	shots := os.Getenv("DEMO_SCREENSHOTS") // a folder: keep screenshots to look at
	for _, slug := range []string{"jws-inline", "two-campaigns", "queued-before-loader", "token-late", "setmetadata-missing", "divid-element", "wrong-divid", "token-leaked", "error-unhandled", "logged-out-empty-token"} {
		v, _ := variantBySlug(slug)
		t.Run(slug, func(t *testing.T) {
			incognito, err := browser.Incognito()
			if err != nil {
				t.Fatal(err)
			}
			defer incognito.Close()
			if cookie := cookieOf(t, s, slug); cookie != "" {
				if err := incognito.SetCookies([]*proto.NetworkCookieParam{{Name: sessionCookie, Value: cookie, Domain: "127.0.0.1", Path: "/"}}); err != nil {
					t.Fatal(err)
				}
			}
			page, err := incognito.Page(proto.TargetCreateTarget{})
			if err != nil {
				t.Fatal(err)
			}
			page = page.Timeout(15 * time.Second)
			var exceptions []string
			var emu sync.Mutex
			go page.EachEvent(func(e *proto.RuntimeExceptionThrown) {
				emu.Lock()
				exceptions = append(exceptions, e.ExceptionDetails.Text)
				emu.Unlock()
			})()
			if err := page.Navigate(s.URL + "/v/" + slug); err != nil {
				t.Fatal(err)
			}
			if err := page.WaitLoad(); err != nil {
				t.Fatal(err)
			}
			wantPushes := len(v.campaigns())
			switch {
			case v.b.push == pushNever:
				wantPushes = 0
			case v.b.handlesErrors:
				wantPushes *= 2 // the fresh token after the stub's error
			}
			wantCreated := len(v.campaigns())
			// wait until every campaign is created, has posted its error, and the expected pushes are in
			if err := page.Wait(rod.Eval(`(want, created) => !!window.__calls &&
				window.__calls.filter(c => c.cmd === 'setMetaData').length >= want &&
				window.__calls.filter(c => c.cmd === 'createIframe').length === created &&
				document.readyState === 'complete'`, wantPushes, wantCreated)); err != nil {
				t.Fatalf("waiting for %d setMetaData calls: %v", wantPushes, err)
			}
			// the errors reached the page; wait for the page's reaction to settle:
			// a good page's fetch of a fresh token is over when the banner is up
			// and the pushes are in, which the wait above covers; a faulty page
			// has nothing pending.
			res, err := page.Eval(`() => JSON.stringify({calls: window.__calls, banner: !!document.getElementById('dm-session-banner')})`)
			if err != nil {
				t.Fatal(err)
			}
			got := res.Value.Str()
			if banner := strings.Contains(got, `"banner":true`); banner != v.b.handlesErrors {
				t.Errorf("banner shown %v, want %v", banner, v.b.handlesErrors)
			}
			if n := strings.Count(got, `"cmd":"setMetaData"`); n != wantPushes {
				t.Errorf("%d setMetaData calls, want %d: %s", n, wantPushes, got)
			}
			for _, c := range v.campaigns() {
				switch v.b.div {
				case divElement:
					if !strings.Contains(got, `"div":"element:`+c.DivID+`"`) {
						t.Errorf("setMetaData did not get the element: %s", got)
					}
				case divWrong:
					if !strings.Contains(got, `"div":"qualifio_insert_place_`+c.CampaignID+`"`) {
						t.Errorf("setMetaData did not get the wrong div: %s", got)
					}
				}
			}
			if v.b.push == pushQueued && !strings.HasPrefix(got, `{"calls":[{"cmd":"setMetaData"`) {
				t.Errorf("setMetaData does not come first: %s", got)
			}
			if v.LoggedOut && !strings.Contains(got, `"tokenLength":0`) {
				t.Errorf("a logged-out visitor does not get an empty token: %s", got)
			}
			mu.Lock()
			leaked := len(pixels) > 0 && strings.Contains(pixels[len(pixels)-1], "t=eyJ")
			mu.Unlock()
			if v.b.leaks && !leaked {
				t.Error("the token never reached the pixel")
			}
			emu.Lock()
			if len(exceptions) > 0 {
				t.Errorf("uncaught exceptions: %v", exceptions)
			}
			emu.Unlock()
			if shots != "" {
				png, err := page.Screenshot(true, nil)
				if err == nil {
					err = os.WriteFile(filepath.Join(shots, slug+".png"), png, 0o644)
				}
				if err != nil {
					t.Log(err)
				}
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(pixels) != 1 {
		t.Errorf("%d pixel requests, want 1 (token-leaked only)", len(pixels))
	}
}
