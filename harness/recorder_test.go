package harness

import (
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// What only a browser shows: the recorder reports what the pure rules
// (package judge, tested by vectors) decide on. These pages check that the
// recorder sees it.

// A plain <iframe> to the campaign host and no kit: Qualifio's Iframe-HTML
// channel, named as such beside kit.missing.
func TestPlainIframeIsTheIframeHTMLChannel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/iframe-html", `<!doctype html><html><body><h1>Contest</h1>
<iframe src="http://`+testHost+`/channel/G1/v1.cfm?id=G1" width="100%" height="600"></iframe></body></html>`)
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, string(finding.CampaignIframeHTML), string(finding.KitMissing))
	for _, fd := range res.Findings {
		if fd.Code == finding.KitMissing && !strings.Contains(fd.Message, "plain iframe") {
			t.Errorf("kit.missing does not name the plain iframe: %s", fd.Message)
		}
	}
}

// Commands pushed on _qual_async and no loader: kit.missing, saying so.
func TestQueuedCommandsWithoutLoader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/no-loader", `<!doctype html><html><body>`+div(testDiv)+`<script>
var _qual_async = _qual_async || [];
`+create(testDiv, testHost, "G1")+`
</script></body></html>`)
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, string(finding.KitMissing))
	if !strings.Contains(res.Findings[0].Message+res.Findings[len(res.Findings)-1].Message, "queued on _qual_async") {
		t.Errorf("kit.missing does not say commands were queued: %v", res.Findings)
	}
}

// After the campaign's error, a cookie-consent dialog is no reaction; a
// login link anywhere in the page is.
func TestReactionIsWhatHelpsTheParticipant(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	onError := func(html string) string {
		return `window.addEventListener('message', function (e) {
  if (!e.data || e.data.type !== 'qualifio:error') return;
  setTimeout(function () { var d = document.createElement('div'); d.innerHTML = ` + "`" + html + "`" + `; document.body.appendChild(d.firstElementChild); }, 100);
});`
	}
	consent := onError(`<div role="dialog" aria-label="Cookies" style="position:fixed;bottom:0;left:0;right:0;background:#fff;padding:12px">We and our partners use cookies to personalise content. <button>Accept all</button></div>`)
	login := onError(`<p>Your session expired. <a href="/account/login">Log in</a> to take part.</p>`)
	for name, script := range map[string]string{"consent": consent, "login": login} {
		u := f.page("/react-"+name, tag(div(testDiv), script, create(testDiv, testHost, "G1"), setMeta(tok, testDiv)))
		res, err := runScenario(t, Scenario{Name: t.Name() + "/" + name, Profile: f.profile(u, 1), Fault: finding.TokenExpired, Observe: 3 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		c := campaignOf(t, res, testDiv)
		switch name {
		case "consent":
			if got := codes(res); len(got) != 1 || got[0] != string(finding.PageErrorUnhandled) || c.PageReaction != "" {
				dumpTimeline(t, res)
				t.Fatalf("consent banner: codes %v, reaction %q", got, c.PageReaction)
			}
		case "login":
			if got := codes(res); len(got) != 0 || c.PageReaction != "dom" {
				dumpTimeline(t, res)
				t.Fatalf("login link: codes %v, reaction %q", got, c.PageReaction)
			}
		}
	}
}

// A component re-keyed when the session arrives: its div and iframe are
// removed and mounted again under the same id, with the token this time.
// The live iframe is judged, not the discarded one.
func TestRemountedCampaignIsJudgedLive(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	remount := `setTimeout(function () {
  var old = document.getElementById('` + testDiv + `'); var parent = old.parentNode; parent.removeChild(old);
  var d = document.createElement('div'); d.id = '` + testDiv + `'; parent.appendChild(d);
  ` + setMeta(tok, testDiv) + `
  ` + create(testDiv, testHost, "G1") + `
}, 1500);`
	u := f.page("/remount", tag(`<main>`+div(testDiv)+`</main>`, create(testDiv, testHost, "G1"), remount))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)
	if c := campaignOf(t, res, testDiv); c.Outcome != OutcomePrefilled {
		dumpTimeline(t, res)
		t.Fatalf("campaign = %+v", c)
	}
	if n := len(timeline.Find(res.Timeline, timeline.CreateIframe, testDiv)); n != 2 {
		t.Fatalf("%d createIframe events, want 2", n)
	}
}
