package harness

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// The real-world tag patterns (issue 8): each fixture page under
// testdata/patterns reproduces how public sites integrate Qualifio's tag —
// a lazy loader, a tag manager's timer, a Next.js-style client route, a
// CNAME loader, a loader included twice or written with document.write, a
// jQuery DOM-ready slot, a React re-key, the Iframe-HTML channel, a CMS
// block that lost its loader — and is served by an httptest server on
// loopback. Each must be judged right every time, also under load:
//
//	go test ./harness -run TestPatterns -count 10
//
// (and the same while `stress-ng --cpu 2` runs).

// patternData fills a fixture page.
type patternData struct {
	Div, Host, GUID, Token string
}

// patternSite serves the fixture pages of testdata/patterns and the
// site's APIs (session, current contest) for one fixture.
func patternSite(t *testing.T, f *fixture, tok string) patternData {
	t.Helper()
	dir := filepath.Join("testdata", "patterns")
	article, err := os.ReadFile(filepath.Join(dir, "_paragraphs.html"))
	if err != nil {
		t.Fatal(err)
	}
	d := patternData{Div: testDiv, Host: testHost, GUID: "8f6c1a52-3e0b-4a43-9d8e-0c5b2f1e7a90", Token: tok}
	funcs := template.FuncMap{
		"js":      func(s string) (string, error) { b, err := json.Marshal(s); return string(b), err },
		"article": func() string { return string(article) },
	}
	page := func(file string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			tpl, err := template.New(file).Funcs(funcs).ParseFiles(filepath.Join(dir, file))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			var b bytes.Buffer
			if err := tpl.Execute(&b, d); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write(b.Bytes())
		}
	}
	static := func(file, typ string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", typ)
			http.ServeFile(w, r, filepath.Join(dir, file))
		}
	}
	jsonAnswer := func(v any, delay time.Duration) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if delay > 0 { // the site's API takes its time, as APIs do
				select {
				case <-time.After(delay):
				case <-r.Context().Done():
					return
				}
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		}
	}
	for _, name := range []string{"lazy-io", "timer", "cname-loader", "loaded-twice", "document-write", "dom-ready", "plain-iframe", "queue-no-kit", "remount"} {
		f.mux.HandleFunc("/"+name, page(name+".html"))
	}
	f.mux.HandleFunc("/jeux", page("spa.html"))
	f.mux.HandleFunc("/jeux/", page("spa.html"))
	f.mux.HandleFunc("/static/article.css", static("article.css", "text/css"))
	f.mux.HandleFunc("/static/jquery.min.js", static("jquery.min.js", "application/javascript"))
	f.mux.HandleFunc("/static/remount-app.js", static("remount-app.js", "application/javascript"))
	f.mux.HandleFunc("/_next/static/chunks/main.js", static("spa-main.js", "application/javascript"))
	f.mux.HandleFunc("/api/contests/current", jsonAnswer(map[string]any{"slug": "sejour-a-la-montagne"}, 0))
	f.mux.HandleFunc("/api/auth/session", jsonAnswer(map[string]any{"user": map[string]any{"name": "Jane"}, "qualifioToken": tok}, 0))
	f.mux.HandleFunc("/api/session", jsonAnswer(map[string]any{"user": true, "id": "42", "qualifioToken": tok}, 500*time.Millisecond))
	return d
}

// pattern is one real-world integration and its right verdict.
type pattern struct {
	name     string
	path     string
	throttle *Throttle
	want     []string // exact must/should codes
	check    func(t *testing.T, res *Result)
}

func prefilled(t *testing.T, res *Result) {
	t.Helper()
	if c := campaignOf(t, res, testDiv); !c.Created || c.Outcome != OutcomePrefilled {
		dumpTimeline(t, res)
		t.Fatalf("campaign = %+v, want created and prefilled", c)
	}
}

func countEvents(res *Result, name string) int { return len(timeline.Find(res.Timeline, name, "")) }

var patterns = []pattern{
	{name: "lazy IntersectionObserver loader", path: "/lazy-io", check: func(t *testing.T, res *Result) {
		prefilled(t, res)
		if countEvents(res, timeline.CampaignSign) == 0 {
			t.Error("no sign of a campaign recorded for the lazy placeholder")
		}
		// The placeholder lies beyond the first screen and its 300 px
		// margin: the reader's scroll (after the load event), not the page
		// itself, brings it into view, before the 3.5 s fallback. The
		// run may end (prefilled) before the reader's next look sees the
		// campaign: then the reader "stopped" after scrolling.
		sc, ok := timeline.First(res.Timeline, timeline.Scrolled, "")
		steps, _ := sc.Data["steps"].(int)
		dwelt, _ := sc.Data["dwelt"].([]string)
		if !ok || sc.Data["reached"] != "campaign" && (sc.Data["reached"] != "stopped" || steps == 0 && !slices.Contains(dwelt, testDiv)) {
			dumpTimeline(t, res)
			t.Errorf("the harness did not scroll the reader to the campaign: %v", sc.Data)
		}
		load, _ := timeline.First(res.Timeline, timeline.PageLoaded, "")
		if k, _ := timeline.First(res.Timeline, timeline.KitRequest, ""); k.TMs < load.TMs {
			t.Errorf("the kit was requested %.0f ms before the load event: the placeholder was in view without scrolling", load.TMs-k.TMs)
		}
	}},
	{name: "tag manager timer after load", path: "/timer", check: func(t *testing.T, res *Result) {
		prefilled(t, res)
		load, _ := timeline.First(res.Timeline, timeline.PageLoaded, "")
		if c, _ := timeline.First(res.Timeline, timeline.CreateIframe, testDiv); c.TMs-load.TMs < 2900 {
			t.Errorf("createIframe %.0f ms after load, the page waits 3 s", c.TMs-load.TMs)
		}
	}},
	{name: "Next.js client route", path: "/jeux", check: func(t *testing.T, res *Result) {
		prefilled(t, res)
		routed := false
		for _, e := range timeline.Find(res.Timeline, timeline.Navigation, "") {
			routed = routed || e.Data["same_document"] == true && strings.Contains(e.Data["url"].(string), "/jeux/sejour-a-la-montagne")
		}
		if !routed {
			t.Error("no client-side route to the contest on the timeline")
		}
	}},
	{name: "loader on the campaign CNAME", path: "/cname-loader", check: func(t *testing.T, res *Result) {
		prefilled(t, res)
		if k, _ := timeline.First(res.Timeline, timeline.KitRequest, ""); k.Data["host"] != testHost {
			t.Errorf("kit request = %v, want the loader from %s", k.Data, testHost)
		}
	}},
	{name: "loader included twice", path: "/loaded-twice", check: func(t *testing.T, res *Result) {
		prefilled(t, res)
		if n := countEvents(res, timeline.KitLoaded); n != 2 {
			t.Errorf("%d kit.loaded events, want 2 (the theme's and the CMS block's)", n)
		}
	}},
	{name: "loader written by document.write", path: "/document-write", check: prefilled},
	{name: "jQuery slot filled on DOM ready", path: "/dom-ready", check: prefilled},
	{name: "jQuery slot filled on DOM ready, throttled", path: "/dom-ready", throttle: &SlowPhone, check: func(t *testing.T, res *Result) {
		prefilled(t, res)
		// The kit gets the emulated latency like any other script.
		req, _ := timeline.First(res.Timeline, timeline.KitRequest, "")
		run, _ := timeline.First(res.Timeline, timeline.KitLoaded, "")
		if d := run.TMs - req.TMs; d < float64(SlowPhone.Latency.Milliseconds()) {
			t.Errorf("the kit ran %.0f ms after it was requested, under a %s latency", d, SlowPhone.Latency)
		}
	}},
	{name: "React re-key when the session arrives", path: "/remount", check: func(t *testing.T, res *Result) {
		prefilled(t, res)
		if n := len(timeline.Find(res.Timeline, timeline.CreateIframe, testDiv)); n != 2 {
			t.Errorf("%d createIframe, want 2 (anonymous, then signed in)", n)
		}
	}},
	{name: "Iframe-HTML channel, no kit", path: "/plain-iframe", want: []string{"campaign.iframe_html", "kit.missing"}},
	{name: "commands queued, no loader", path: "/queue-no-kit", want: []string{"kit.missing"}, check: func(t *testing.T, res *Result) {
		i := slices.IndexFunc(res.Findings, func(f finding.Finding) bool { return f.Code == finding.KitMissing })
		if i < 0 || !strings.Contains(res.Findings[i].Message, "queued") {
			t.Errorf("kit.missing should say commands were queued and no loader ran: %v", res.Findings)
		}
	}},
}

func TestPatterns(t *testing.T) {
	t.Parallel()
	for _, p := range patterns {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			tok := f.mint("111", nil)
			patternSite(t, f, tok)
			prof := f.profile(f.srv.URL+p.path, 1)
			// The scenario clock still counts the tab's set-up, which takes
			// seconds on a loaded machine (issue 8, item 4): a budget that
			// does not decide the verdict. timing.kit_wait keeps its default.
			prof.Timing.Timeout = profile.Duration(30 * time.Second)
			if p.throttle != nil {
				prof.Timing.Timeout = profile.Duration(50 * time.Second) // jQuery over slow 3G
			}
			prof.Timing.KitWait = 0
			if err := prof.Complete(); err != nil {
				t.Fatal(err)
			}
			res, err := runScenario(t, Scenario{Profile: prof, Throttle: p.throttle})
			if err != nil {
				dumpTimeline(t, res)
				t.Fatal(err)
			}
			if os.Getenv("QUALCERT_DUMP") != "" {
				dumpTimeline(t, res)
			}
			expectCodes(t, res, p.want...)
			if p.check != nil {
				p.check(t, res)
			}
		})
	}
}

// TestLateDeliveredEventsAreWaitedFor: on a loaded machine the recorder's
// events reach Go seconds after they happened. Here, on the React re-key
// page, the kit's second createIframe event (and, behind it, everything
// the session receives after it) is delivered 2 s late, and the second
// campaign iframe takes 2 s to load: the
// campaign is blocked for want of a token, then the component re-mounts
// with the session and a second createIframe follows. Judged on the
// timeline as delivered, the run ended 1.5 s after the fresh setMetaData,
// before the second iframe was seen, and the campaign, prefilled in the
// page, was judged without an outcome (seen in make test, stop 15). The run
// now waits for the events on their way before it ends
// (browser.Session.Sync).
func TestLateDeliveredEventsAreWaitedFor(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	patternSite(t, f, f.mint("111", nil))
	prof := f.profile(f.srv.URL+"/remount", 1)
	prof.Timing.Timeout = profile.Duration(30 * time.Second)
	prof.Timing.KitWait = 0
	if err := prof.Complete(); err != nil {
		t.Fatal(err)
	}
	// The delays of a loaded machine, not waits of the test.
	sc := Scenario{Profile: prof, slow: &slowness{
		delivery: func(payload string) {
			if strings.Contains(payload, `"ev":"createIframe"`) && strings.Contains(payload, `"frame":2`) {
				time.Sleep(2 * time.Second)
			}
		},
		kit: func(q *http.Request) {
			if strings.HasSuffix(q.URL.Path, "/v1.cfm") && q.URL.Query().Get("frame") == "2" {
				time.Sleep(2 * time.Second) // the re-mounted campaign's iframe loads slowly
			}
		},
	}}
	res, err := runScenario(t, sc)
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	prefilled(t, res)
	expectCodes(t, res)
	if n := len(timeline.Find(res.Timeline, timeline.CreateIframe, testDiv)); n != 2 {
		t.Errorf("%d createIframe, want 2 (anonymous, then signed in)", n)
	}
	late := false
	for _, e := range timeline.Find(res.Timeline, timeline.Synced, "") {
		if n, _ := e.Data["arrived"].(int); n > 0 {
			late = true
		}
	}
	if !late {
		dumpTimeline(t, res)
		t.Error("no harness.synced event brought late events in: the delay did not reach the settle decision")
	}
}
