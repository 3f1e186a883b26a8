package harness

import (
	"fmt"
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/timeline"
)

// Hostile pages: each tries to fool the harness into a wrong verdict. The
// recorder and the kit's bookkeeping run in an isolated world with their
// own clock, so a late token stays late, and a page that interferes with
// the campaign's messages or the harness gets page.harness_tampered.

// lateToken pushes tok 2.5 s after the tag ran, well after the campaign
// asked (the reference campaign asks as soon as its iframe loaded).
func lateToken(tok string) string {
	return fmt.Sprintf(`setTimeout(function () { %s }, 2500);`, setMeta(tok, testDiv))
}

// swallow is a page listener that stops the campaign's getMetaData before
// anyone else sees it, keeping it to replay later.
const swallow = `var kept = null;
window.addEventListener('message', function (e) {
  if (e.data && e.data.qualifio && e.data.type === 'qualifio:getMetaData') { kept = e; e.stopImmediatePropagation(); }
}, true);`

// forge tries every way the old in-page recorder could be fooled: a
// backdated setMetaData through the harness's emitter and binding, then
// the swallowed getMetaData replayed once the token is there.
func forge(tok string) string {
	return fmt.Sprintf(`setTimeout(function () {
  var tok = %q, t0 = performance.timeOrigin;
  var ev = {src: 'kit', ev: 'setMetaData', div: %q, t: t0 + 1, data: {type: 'JWT', div_kind: 'string', token: tok, token_type: 'string'}};
  try { window.__qualcert.emit(ev); } catch (e) {}
  try { window.__qualcertEmit(JSON.stringify(ev)); } catch (e) {}
  %s
  if (kept) window.dispatchEvent(new MessageEvent('message', {data: kept.data, origin: kept.origin, source: kept.source}));
}, 2500);`, tok, testDiv, setMeta(tok, testDiv))
}

// fakeClock freezes the page's clocks at their first reading.
const fakeClock = `(function () {
  var p0 = performance.now(), d0 = Date.now();
  performance.now = function () { return p0; };
  Date.now = function () { return d0; };
})();`

// hostileGlobals redefines what the old recorder and kit relied on.
const hostileGlobals = `(function () {
  var pm = window.postMessage;
  window.postMessage = function () { return pm.apply(this, arguments); };
  Object.defineProperty(MessageEvent.prototype, 'data', { get: function () { return {qualifio: false}; } });
  var add = EventTarget.prototype.addEventListener;
  EventTarget.prototype.addEventListener = function (t, f, o) { return add.call(this, t, f, o); };
  JSON.stringify = function () { return '{}'; };
  try { delete window.__qualcert; delete window.__qualcertEmit; } catch (e) {}
})();`

// flood calls the old binding name and floods the relay channel with
// junk, big and many.
const flood = `(function () {
  var big = 'x'.repeat(50 << 20);
  for (var i = 0; i < 200000; i++) { try { window.__qualcertEmit('{"src":"kit","ev":"kit.loaded"}'); } catch (e) { break; } }
  for (var j = 0; j < 20000; j++) document.dispatchEvent(new CustomEvent('qualcert:relay', {detail: '{"k":"command","how":"queued","args":["junk"]}'}));
  document.dispatchEvent(new CustomEvent('qualcert:relay', {detail: big}));
})();`

func TestHostilePages(t *testing.T) {
	cases := []struct {
		name   string
		head   string // a script before the tag
		cmds   func(f *fixture) []string
		want   []string
		tamper bool
	}{
		{name: "swallow and backdate a late token", head: swallow,
			cmds:   func(f *fixture) []string { return []string{forge(f.mint("111", nil))} },
			want:   []string{"campaign.blocked", "page.harness_tampered", "setmetadata.late"},
			tamper: true},
		{name: "fake clocks hide a late token", head: fakeClock,
			cmds: func(f *fixture) []string { return []string{lateToken(f.mint("111", nil))} },
			want: []string{"campaign.blocked", "setmetadata.late"}},
		{name: "hostile globals, token on time", head: hostileGlobals,
			cmds: func(f *fixture) []string { return []string{setMeta(f.mint("111", nil), testDiv)} },
			want: nil},
		{name: "hostile globals, late token", head: hostileGlobals + fakeClock,
			cmds: func(f *fixture) []string { return []string{lateToken(f.mint("111", nil))} },
			want: []string{"campaign.blocked", "setmetadata.late"}},
		{name: "queue accessor deleted, token on time", head: `delete window._qual_async;`,
			cmds: func(f *fixture) []string { return []string{setMeta(f.mint("111", nil), testDiv)} },
			want: nil},
		{name: "binding and relay flood, token on time", head: flood,
			cmds:   func(f *fixture) []string { return []string{setMeta(f.mint("111", nil), testDiv)} },
			want:   []string{"page.harness_tampered"},
			tamper: true},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			cmds := append([]string{create(testDiv, testHost, "G1")}, c.cmds(f)...)
			html := strings.Replace(tag(div(testDiv), cmds...), "<h1>", "<script>"+c.head+"</script><h1>", 1)
			res, err := runScenario(t, Scenario{Profile: f.profile(f.page("/hostile", html), 1)})
			if err != nil {
				dumpTimeline(t, res)
				t.Fatal(err)
			}
			if got := codes(res); strings.Join(got, ",") != strings.Join(c.want, ",") {
				dumpTimeline(t, res)
				t.Fatalf("codes %v, want %v", got, c.want)
			}
			if n := len(timeline.Find(res.Timeline, timeline.Tampered, "")); (n > 0) != c.tamper {
				t.Fatalf("%d page.tampered events, want some: %v", n, c.tamper)
			}
			if len(res.Timeline) > 2000 {
				t.Fatalf("the timeline grew to %d events", len(res.Timeline))
			}
		})
	}
}
