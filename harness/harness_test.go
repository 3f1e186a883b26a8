package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// expectCodes fails the test unless the must/should codes of res are want.
func expectCodes(t *testing.T, res *Result, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := codes(res); !slices.Equal(got, want) {
		dumpTimeline(t, res)
		for _, c := range res.Campaigns {
			t.Logf("campaign %s: outcome %s, error %q, page reaction %q", c.DivID, c.Outcome, c.ErrorCode, c.PageReaction)
		}
		t.Fatalf("must/should codes = %v, want %v", got, want)
	}
}

func campaignOf(t *testing.T, res *Result, div string) Campaign {
	t.Helper()
	for _, c := range res.Campaigns {
		if c.DivID == div {
			return c
		}
	}
	t.Fatalf("no campaign %s in the result", div)
	return Campaign{}
}

func wantBroken(t *testing.T, res *Result, err error, code finding.Code) {
	t.Helper()
	if !errors.Is(err, ErrBroken) {
		dumpTimeline(t, res)
		t.Fatalf("err = %v, want a broken result (%s)", err, code)
	}
	if res == nil || !slices.ContainsFunc(res.Findings, func(f finding.Finding) bool { return f.Code == code }) {
		dumpTimeline(t, res)
		t.Fatalf("broken result without a %s finding", code)
	}
}

func TestGoodPagePrefillsWithEvidence(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	u := f.page("/good", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(tok, testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	c := campaignOf(t, res, testDiv)
	if !c.Created || c.Outcome != OutcomePrefilled || c.Token == nil || !c.Token.Valid() {
		t.Fatalf("campaign = %+v", c)
	}
	if c.SetMetaDataMs < 0 || c.GetMetaDataMs < c.SetMetaDataMs {
		t.Fatalf("timing: set %v get %v", c.SetMetaDataMs, c.GetMetaDataMs)
	}
	names := map[string]bool{}
	for _, s := range res.Screenshots {
		names[s.Name] = len(s.PNG) > 8 && string(s.PNG[1:4]) == "PNG"
	}
	if !names["page.png"] || !names["campaign-"+testDiv+".png"] {
		t.Fatalf("screenshots: %v", names)
	}
	for _, ev := range []string{timeline.KitRequest, timeline.KitLoaded, timeline.CreateIframe, timeline.SetMetaData,
		timeline.IframeLoaded, timeline.GetMetaData, timeline.TokenVerified, timeline.FormPrefilled, timeline.PostMessage} {
		if _, ok := timeline.First(res.Timeline, ev, ""); !ok {
			t.Errorf("no %s event on the timeline", ev)
		}
	}
	// Privacy: the raw token never reaches the timeline or the findings.
	for _, e := range res.Timeline {
		if strings.Contains(fmt.Sprint(e.Data), tok) {
			t.Fatalf("raw token on the timeline in %s", e.Event)
		}
	}
}

func TestTwoCampaigns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/two", tag(div(testDiv)+div(testDiv2),
		create(testDiv, testHost, "G1"), create(testDiv2, testHost2, "G2"),
		setMeta(f.mint("111", nil), testDiv), setMeta(f.mint("222", nil), testDiv2)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 2)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	for _, d := range []string{testDiv, testDiv2} {
		if c := campaignOf(t, res, d); c.Outcome != OutcomePrefilled {
			t.Fatalf("campaign %s: %+v", d, c)
		}
	}
}

func TestWrongCampaignIDPerDiv(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The tokens are swapped between the two campaigns.
	u := f.page("/swapped", tag(div(testDiv)+div(testDiv2),
		create(testDiv, testHost, "G1"), create(testDiv2, testHost2, "G2"),
		setMeta(f.mint("222", nil), testDiv), setMeta(f.mint("111", nil), testDiv2)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 2)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "campaign.blocked", "campaign.blocked", "token.campaign_mismatch", "token.campaign_mismatch")
	for _, fd := range res.Findings {
		if fd.Campaign == "" && fd.Level != finding.Info {
			t.Fatalf("finding without campaign: %s", fd)
		}
	}
}

// The loader tag comes first (synchronous), commands are pushed later and
// run at once (recorded as "run", not "queued").
func TestQueuedAfterLoaderRunsAtOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	html := `<!doctype html><html><head><script src="https://files.qualifio.com/kit/qualp.2.min.js"></script></head><body>` +
		div(testDiv) + `<script>` + create(testDiv, testHost, "G1") + setMeta(f.mint("111", nil), testDiv) + `</script></body></html>`
	p := f.profile(f.page("/sync", html), 1)
	p.Timing.GetMetaDataDelay = profile.Duration(400 * time.Millisecond) // a comfortable margin: no race
	res, err := runScenario(t, Scenario{Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	cmds := timeline.Find(res.Timeline, timeline.Command, "")
	if len(cmds) < 2 || cmds[0].Data["how"] != "run" {
		t.Fatalf("commands after the kit should be recorded as run at once: %v", cmds)
	}
}

// A setMetaData pushed when the campaign iframe has just loaded comes a few
// milliseconds before the campaign asks: on time, but a race (PROTOCOL.md).
func TestSetMetaDataJustBeforeGetMetaDataIsARace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/race", tag(div(testDiv), create(testDiv, testHost, "G1"),
		`document.getElementById('`+testDiv+`').addEventListener('load', function () { `+setMeta(f.mint("111", nil), testDiv)+` }, true);`))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := campaignOf(t, res, testDiv)
	if c.Outcome != OutcomePrefilled || c.MarginMs < 0 {
		t.Fatalf("campaign = %+v", c)
	}
	// The page pushes its token when the iframe loads; how long the
	// campaign then takes to ask depends on the machine. A starved machine
	// makes the margin wider than a near miss: then the verdict (no race)
	// is right for what was measured, and the rule itself is covered by the
	// judge's vectors (fail_race_*).
	if c.MarginMs >= 200 {
		expectCodes(t, res)
		t.Skipf("the campaign asked %.0f ms after the token on this machine: no near miss to judge", c.MarginMs)
	}
	expectCodes(t, res, "setmetadata.race")
}

func TestLateSetMetaData(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/late", tag(div(testDiv), create(testDiv, testHost, "G1"),
		`window.addEventListener('load', function(){ setTimeout(function(){ `+setMeta(f.mint("111", nil), testDiv)+` }, 600); });`))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "campaign.blocked", "setmetadata.late")
	if c := campaignOf(t, res, testDiv); c.MarginMs >= 0 || c.ErrorCode == "" {
		t.Fatalf("campaign = %+v", c)
	}
}

func TestLateSetMetaDataUnderThrottleIsARace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/late-throttled", tag(div(testDiv), create(testDiv, testHost, "G1"),
		`window.addEventListener('load', function(){ setTimeout(function(){ `+setMeta(f.mint("111", nil), testDiv)+` }, 300); });`))
	th := Throttle{CPURate: 2, Latency: 50 * time.Millisecond}
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1), Throttle: &th})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "campaign.blocked", "setmetadata.race")
	if _, ok := timeline.First(res.Timeline, timeline.ThrottleApplied, ""); !ok {
		t.Fatal("no throttle.applied event")
	}
}

func TestNoKit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/nokit", `<!doctype html><html><body>`+div(testDiv)+`<p>No campaign here.</p></body></html>`)
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "kit.missing")
	if _, ok := timeline.First(res.Timeline, timeline.Timeout, ""); ok {
		t.Fatal("a page without kit must conclude before the timeout")
	}
}

func TestServerErrorPageIsReachable(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	res, err := runScenario(t, Scenario{Profile: f.profile(f.srv.URL+"/500", 1)})
	if err != nil {
		t.Fatalf("a 500 page is reachable: %v", err)
	}
	expectCodes(t, res, "kit.missing")
}

func TestUnreachablePage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	res, err := runScenario(t, Scenario{Profile: f.profile("http://127.0.0.1:1/contest", 1)})
	wantBroken(t, res, err, finding.EnvPageUnreachable)
}

func TestDialogsAreDismissedAndRecorded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/dialogs", `<script>alert('hello'); var ok = confirm('sure?'); var name = prompt('name?');
document.title = 'after ' + ok + ' ' + name;</script>`+tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	if n := len(timeline.Find(res.Timeline, timeline.Dialog, "")); n != 3 {
		dumpTimeline(t, res)
		t.Fatalf("%d dialogs recorded, want 3", n)
	}
}

func TestEndlessLoopEndsBroken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/loop", `<!doctype html><html><body><script>while(true){}</script></body></html>`)
	p := f.profile(u, 1)
	p.Timing.Timeout = 4e9
	res, err := runScenario(t, Scenario{Profile: p})
	wantBroken(t, res, err, finding.EnvTimeout)
}

func TestEndlessLoopAfterTheFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/loop-later", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv),
		`window.addEventListener('message', function(e){ if (e.data && e.data.type === 'qualifio:ready') setTimeout(function(){ while(true){} }, 0); });`))
	p := f.profile(u, 1)
	p.Timing.Timeout = 5e9
	res, err := runScenario(t, Scenario{Profile: p})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)
}

func TestNavigationAwayMidFlow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.page("/elsewhere", `<!doctype html><html><body><p>Another page</p></body></html>`)
	u := f.page("/leaves", tag(div(testDiv), create(testDiv, testHost, "G1"),
		`setTimeout(function(){ location.href = '/elsewhere'; }, 50);`))
	p := f.profile(u, 1)
	p.Timing.GetMetaDataDelay = 2e9 // the campaign would ask long after the page left
	res, err := runScenario(t, Scenario{Profile: p})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	if n := len(timeline.Find(res.Timeline, timeline.Navigation, "")); n < 3 {
		dumpTimeline(t, res)
		t.Fatalf("%d navigation events, want the start, the page and the page it went to", n)
	}
	if c := campaignOf(t, res, testDiv); c.Outcome != OutcomeNone {
		t.Fatalf("campaign = %+v", c)
	}
}

func TestKitLoadedTwice(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/twice", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv), loader))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	loads := timeline.Find(res.Timeline, timeline.KitLoaded, "")
	if len(loads) != 2 || loads[1].Data["again"] != true {
		t.Fatalf("kit loads = %v", loads)
	}
	if n := len(timeline.Find(res.Timeline, timeline.CreateIframe, testDiv)); n != 1 {
		t.Fatalf("%d iframes created, want 1", n)
	}
}

func TestHugeToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, tag(div(testDiv), create(testDiv, testHost, "G1"),
			`var big = 'eyJhbGciOiJFUzI1NiJ9.' + 'A'.repeat(10 << 20) + '.sig';`,
			`_qual_async.push(['setMetaData', 'JWT', big, '`+testDiv+`']);`))
	})
	res, err := runScenario(t, Scenario{Profile: f.profile(f.srv.URL+"/huge", 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res, "campaign.blocked", "token.too_large")
}

func TestPageThatNeverFinishesLoading(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	page := tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv))
	page = strings.TrimSuffix(page, "</body></html>")
	f.mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, page+"<p>still loading…</p>")
		w.(http.Flusher).Flush()
		select { // hold the response open
		case <-release:
		case <-r.Context().Done():
		}
	})
	res, err := runScenario(t, Scenario{Profile: f.profile(f.srv.URL+"/endless", 1)})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)
	if _, ok := timeline.First(res.Timeline, timeline.PageLoaded, ""); ok {
		t.Fatal("the page was not supposed to finish loading")
	}
}

func TestPageThatNeverAnswers(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.mux.HandleFunc("/silent", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	p := f.profile(f.srv.URL+"/silent", 1)
	p.Timing.Timeout = 3e9
	res, err := runScenario(t, Scenario{Profile: p})
	wantBroken(t, res, err, finding.EnvTimeout)
}

// reacting is a page listener that answers a campaign error with a banner
// and one fresh setMetaData.
func reacting(tok string) string {
	return `var reacted = false; window.addEventListener('message', function (e) {
  if (!e.data || e.data.type !== 'qualifio:error' || reacted) return;
  reacted = true;
  var b = document.createElement('div'); b.textContent = 'Please log in again'; document.body.prepend(b);
  ` + setMeta(tok, testDiv) + `
});`
}

func TestFaultHandledByThePage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	u := f.page("/handled", tag(div(testDiv), reacting(tok), create(testDiv, testHost, "G1"), setMeta(tok, testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1), Fault: finding.TokenExpired})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	c := campaignOf(t, res, testDiv)
	if c.PageReaction == "" || c.ErrorCode != string(finding.TokenExpired) {
		t.Fatalf("campaign = %+v", c)
	}
	if _, ok := timeline.First(res.Timeline, timeline.FaultInjected, testDiv); !ok {
		t.Fatal("no fault.injected event for the campaign")
	}
}

func TestFaultIgnoredByThePage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/ignored", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1), Fault: finding.TokenExpired, Observe: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "page.error_unhandled")
}

func TestLoggedOutLeftBlocked(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/out", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta("", testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1), LoggedOut: true})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "page.logged_out_blocked")
}

func TestTokenLeakedToAPixel(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mux.HandleFunc("/pixel.gif", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	tok := f.mint("111", nil)
	u := f.page("/leak", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(tok, testDiv),
		`new Image().src = '/pixel.gif?u=' + encodeURIComponent('`+tok+`');`))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "token.leaked")
	if e, ok := timeline.First(res.Timeline, timeline.TokenLeak, testDiv); !ok || !strings.Contains(fmt.Sprint(e.Data["where"]), "URL") {
		t.Fatalf("token.leak event = %+v", e)
	}
	if fd := res.Findings[slices.IndexFunc(res.Findings, func(x finding.Finding) bool { return x.Code == finding.TokenLeaked })]; fd.Campaign != testDiv || strings.Contains(fd.Message, tok) {
		t.Fatalf("leak finding = %+v", fd)
	}
}

func TestDivIDAsElementAndMissing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/element", tag(div(testDiv), create(testDiv, testHost, "G1"),
		`_qual_async.push(['setMetaData', 'JWT', '`+f.mint("111", nil)+`', document.getElementById('`+testDiv+`')]);`))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "setmetadata.divid_not_string")

	u2 := f.page("/nodiv", tag(div(testDiv), create(testDiv, testHost, "G1"),
		`_qual_async.push(['setMetaData', 'jwt', '`+f.mint("111", nil)+`']);`))
	res, err = runScenario(t, Scenario{Profile: f.profile(u2, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "setmetadata.bad_type", "setmetadata.divid_missing")
	// with one campaign the token still reaches it: a warning (CONTRACT §4)
	for _, f := range res.Findings {
		if f.Code == finding.SetMetaDataDivIDMissing && f.Level != finding.Should {
			t.Errorf("setmetadata.divid_missing with one campaign is %s, want should", f.Level)
		}
	}
}

func TestCookiesAndScriptedLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	f.mux.HandleFunc("/contest", func(w http.ResponseWriter, r *http.Request) {
		meta := setMeta("", testDiv)
		if c, err := r.Cookie("session"); err == nil && c.Value == "s3cret" {
			meta = setMeta(tok, testDiv)
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, tag(div(testDiv), create(testDiv, testHost, "G1"), meta))
	})
	f.page("/login", `<!doctype html><form method="post" action="/do-login"><input id="email" name="email"><input id="password" name="password" type="password"><button type="submit">Log in</button></form>`)
	f.mux.HandleFunc("/do-login", func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("email") == "qa@example.com" && r.FormValue("password") == "pw-from-env" {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cret", Path: "/"})
		}
		http.Redirect(w, r, "/contest", http.StatusSeeOther)
	})
	// os.Setenv: t.Setenv refuses parallel tests; the name is this test's own.
	os.Setenv("QUALCERT_TEST_PASSWORD", "pw-from-env")
	t.Cleanup(func() { os.Unsetenv("QUALCERT_TEST_PASSWORD") })

	withCookie := f.profile(f.srv.URL+"/contest", 1)
	withCookie.Page.Cookies = []profileCookie{{Name: "session", Value: "s3cret"}}
	res, err := runScenario(t, Scenario{Profile: withCookie})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)

	withLogin := f.profile(f.srv.URL+"/contest", 1)
	withLogin.Page.Login = loginSteps(f.srv.URL+"/login", "qa@example.com", "QUALCERT_TEST_PASSWORD")
	res, err = runScenario(t, Scenario{Profile: withLogin})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)

	res, err = runScenario(t, Scenario{Profile: withLogin, LoggedOut: true})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "page.logged_out_blocked")

	// a login step whose selector matches nothing is a failed login naming
	// the step, not a scenario timeout
	badLogin := f.profile(f.srv.URL+"/contest", 1)
	badLogin.Page.Login = loginSteps(f.srv.URL+"/login", "qa@example.com", "QUALCERT_TEST_PASSWORD")
	badLogin.Page.Login.Steps[0].Fill.Selector = "#no-such-field"
	res, err = runScenario(t, Scenario{Profile: badLogin})
	wantBroken(t, res, err, finding.EnvLoginFailed)
	if !strings.Contains(err.Error(), `fill "#no-such-field"`) {
		t.Errorf("the error does not name the step: %v", err)
	}
}

func TestPanicInRunIsABrokenResult(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/panic", tag(div(testDiv), create(testDiv, testHost, "G1")))
	res, err := runScenario(t, Scenario{Name: panicScenario, Profile: f.profile(u, 1)})
	wantBroken(t, res, err, finding.EnvBrowser)
	// The harness is still usable after the panic.
	u2 := f.page("/after-panic", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	res, err = runScenario(t, Scenario{Profile: f.profile(u2, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
}

// TestBlockedCampaignScreenshot: an expired token ends on the spinner (the
// screenshots land in $QUALCERT_SHOTS when set, for a person to look at).
func TestBlockedCampaignScreenshot(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/blocked", tag(`<p>Our contest of the month:</p>`+div(testDiv), create(testDiv, testHost, "G1"),
		setMeta(f.mint("111", map[string]any{"iat": time.Now().Unix() - 1200, "exp": time.Now().Unix() - 600}), testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "campaign.blocked", "token.expired")
	if c := campaignOf(t, res, testDiv); c.Outcome != OutcomeBlocked || c.ErrorCode != "token.expired" {
		t.Fatalf("campaign = %+v", c)
	}
	if len(res.Screenshots) != 2 {
		t.Fatalf("%d screenshots, want the campaign and the page", len(res.Screenshots))
	}
}

func TestTokenLeakedToTheConsole(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.mint("111", nil)
	u := f.page("/console", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(tok, testDiv),
		`console.log('debug token', '`+tok+`');`))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res, "token.leaked")
}

// In observe mode (the real kit, no interception) the recorder still sees
// the page's queue commands; with no network here the kit cannot load, and
// the campaign side is not judged.
func TestLiveKitRecordsTheQueue(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	h, err := Start(ctx, Options{LiveKit: true})
	if err != nil {
		t.Fatal(err)
	}
	pid := h.Browser().PID()
	defer func() {
		if err := h.Close(); err != nil {
			t.Error(err)
		}
		if left := browser.Processes(pid); len(left) > 0 {
			t.Errorf("processes left: %v", left)
		}
	}()
	// No loader: the observe-mode run must not reach the network.
	u := f.page("/live", `<!doctype html><body>`+div(testDiv)+`<script>var _qual_async = _qual_async || [];`+
		create(testDiv, testHost, "G1")+setMeta(f.mint("111", nil), testDiv)+`</script></body>`)
	p := f.profile(u, 1)
	res, err := h.Run(ctx, Scenario{Name: t.Name(), Profile: p})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	c := campaignOf(t, res, testDiv)
	if !c.Created || c.SetMetaDataMs < 0 || c.Outcome != OutcomeNone {
		t.Fatalf("campaign = %+v", c)
	}
}

func TestSlowPhone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/slow", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	th := SlowPhone
	p := f.profile(u, 1)
	// Slow 3G applies to the kit and the campaign too (each answer waits
	// 400 ms and its size at 400 kbit/s): the default budget, not the
	// fixtures' tight one.
	p.Timing.Timeout = profile.Duration(profile.DefaultScenarioTimeout)
	res, err := runScenario(t, Scenario{Profile: p, Throttle: &th})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)
	if c := campaignOf(t, res, testDiv); c.Outcome != OutcomePrefilled {
		t.Fatalf("campaign = %+v", c)
	}
	t.Logf("slow phone run: %s", res.Duration)
}

// A page that greets the participant by name shows it in page.png unless the
// harness masks it: the participant's values are masked in the page before
// its screenshot, without being taken for a page reaction.
func TestPageScreenshotMasksParticipantValues(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/hello", `<p id="greeting">Hello, Jane Doe (jane@example.com) — Janet is not masked</p><input id="mail" value="jane@example.com">`+
		tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	masked, ok := timeline.First(res.Timeline, timeline.EvidenceMasked, "")
	if !ok {
		dumpTimeline(t, res)
		t.Fatal("the page was not masked before its screenshot")
	}
	// Jane, Doe, the e-mail in the text and the e-mail in the input: 4; "Janet" is another word
	if masked.Data["masked"] != "4" {
		t.Errorf("masked %v places, want 4", masked.Data["masked"])
	}
	for _, e := range res.Timeline {
		if e.Event == "page.reaction" || (e.Source == timeline.Page && e.Event == "dom") {
			if e.TMs >= masked.TMs {
				t.Errorf("the harness's own masking was recorded as page activity: %+v", e)
			}
		}
	}
}

// Ctrl-C (the caller's context cancelled) ends a run as interrupted:
// broken, saying so, and not as a page timeout with its "raise
// timing.timeout" hint.
func TestInterruptedRunSaysSo(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f.mux.HandleFunc("/silent-interrupted", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	p := f.profile(f.srv.URL+"/silent-interrupted", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C a second in, while the tab opens or the page loads: the
	// verdict is the same wherever it strikes.
	stop := time.AfterFunc(time.Second, cancel)
	defer stop.Stop()
	res, err := shared.Run(ctx, Scenario{Name: t.Name(), Profile: p})
	wantBroken(t, res, err, finding.EnvInterrupted)
	for _, f := range res.Findings {
		if f.Code == finding.EnvTimeout || strings.Contains(f.Hint, "timing.timeout") {
			t.Fatalf("an interrupted run reads as a timeout: %v", f)
		}
	}
}

// At the scenario deadline, a must finding already established is the
// verdict; verdicts of absence (no kit yet, no createIframe yet, no
// setMetaData yet, the blocked outcome they cause) are not established.
func TestEstablishedMustFindings(t *testing.T) {
	mk := func(codes ...finding.Code) []finding.Finding {
		var fs []finding.Finding
		for _, c := range codes {
			fs = append(fs, finding.New(c, ""))
		}
		return fs
	}
	if established(mk(finding.KitMissing, finding.CampaignNotCreated, finding.SetMetaDataMissing, finding.CampaignBlocked, finding.SetMetaDataRace)) {
		t.Error("verdicts of absence were taken for established")
	}
	if !established(mk(finding.TokenExpired)) || !established(mk(finding.SetMetaDataLate, finding.CampaignBlocked)) {
		t.Error("an expired token or a late setMetaData is established")
	}
}
