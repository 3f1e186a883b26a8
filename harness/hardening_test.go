package harness

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// TestForeignCampaignHostIsNotLoaded: a createIframe on a host the profile
// does not name is campaign.host_mismatch at once, without the iframe
// being loaded from the network (nor the run waiting for it).
func TestForeignCampaignHostIsNotLoaded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var mu sync.Mutex
	var foreign []string
	// The foreign host is served on loopback through the page's own server:
	// a request to it would show here.
	f.mux.HandleFunc("/__foreign/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreign = append(foreign, r.URL.Path)
		mu.Unlock()
	})
	host := f.srv.Listener.Addr().String() // 127.0.0.1:port: reachable, not intercepted
	u := f.page("/foreign", tag(div(testDiv), create(testDiv, host, "__foreign"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	p.Timing.Timeout = profile.Duration(25 * time.Second) // room for a loaded machine: the run must not wait for the refused iframe
	res, err := runScenario(t, Scenario{Profile: p})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatalf("broken: %v", err)
	}
	if !slices.Contains(codes(res), string(finding.CampaignHostMismatch)) {
		dumpTimeline(t, res)
		t.Fatalf("codes %v, want campaign.host_mismatch", codes(res))
	}
	e, ok := timeline.First(res.Timeline, timeline.CreateIframe, testDiv)
	if !ok || e.Data["refused"] != "host" {
		t.Fatalf("createIframe event %+v, want it refused", e.Data)
	}
	if _, ok := timeline.First(res.Timeline, timeline.IframeLoaded, testDiv); ok {
		t.Error("the foreign iframe was loaded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(foreign) > 0 {
		t.Errorf("the foreign host was fetched: %v", foreign)
	}
}

// TestUnreachableKeySourceIsBroken: a jwks_url that cannot be read gives
// no verdict (env.key_source naming the URL), never token.key_unknown.
func TestUnreachableKeySourceIsBroken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	u := f.page("/jwks-down", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	p.Token.JWKSFile, p.Token.JWKSURL = "", f.srv.URL+"/no-such-jwks.json"
	res, err := runScenario(t, Scenario{Profile: p})
	wantBroken(t, res, err, finding.EnvKeySource)
	if fd := res.Findings[0]; !strings.Contains(fd.Message, "/no-such-jwks.json") || !strings.Contains(fd.Message, "404") {
		t.Errorf("finding %+v does not name the URL and the error", fd)
	}
}

// TestTokenLeakedFromWorkerWebSocketAndLoader: token.leaked is found when
// the token leaves from a Web Worker (Partytown-style analytics), in a
// WebSocket URL, or in the loader's own URL.
func TestTokenLeakedFromWorkerWebSocketAndLoader(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mux.HandleFunc("/collect", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	f.mux.HandleFunc("/worker.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/javascript")
		fmt.Fprint(w, `onmessage = function (e) { fetch('/collect', {method: 'POST', body: JSON.stringify({t: e.data})}); };`)
	})
	cases := map[string]string{
		"worker":    `var w = new Worker('/worker.js'); w.postMessage(TOK);`,
		"websocket": `try { new WebSocket('ws://' + location.host + '/ws?t=' + TOK); } catch (e) {}`,
		"loader":    `var s2 = document.createElement('script'); s2.src = 'https://files.qualifio.com/kit/qualp.2.min.js?u=' + TOK; document.head.appendChild(s2);`,
	}
	for name, js := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tok := f.mint("111", nil)
			u := f.page("/leak-"+name, tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(tok, testDiv),
				"var TOK = '"+tok+"';", js))
			p := f.profile(u, 1)
			p.Timing.Timeout = profile.Duration(25 * time.Second)
			res, err := runScenario(t, Scenario{Profile: p})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(codes(res), string(finding.TokenLeaked)) {
				dumpTimeline(t, res)
				t.Fatalf("codes %v, want token.leaked", codes(res))
			}
		})
	}
}

// TestBindingFloodIsBounded: a page calling the harness's binding in a
// loop reaches no binding at all (it lives in the recorder's isolated
// world): it calls a decoy, which reports the tampering once, and the run
// reaches its verdict without the session's bound on the binding ever
// being hit (the recorder's own traffic stays within it).
func TestBindingFloodIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	flood := `for (var i = 0; i < 30000; i++) { try { window[` + fmt.Sprintf("%q", observe.Binding) + `]('{"src":"page","ev":"dom","data":{}}'); } catch (e) {} }`
	u := f.page("/flood", tag(div(testDiv), flood, create(testDiv, testHost, "G1"), setMeta(f.mint("111", nil), testDiv)))
	p := f.profile(u, 1)
	p.Timing.Timeout = profile.Duration(25 * time.Second)
	res, err := runScenario(t, Scenario{Profile: p})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatalf("broken: %v", err)
	}
	if got := codes(res); !slices.Equal(got, []string{string(finding.PageHarnessTampered)}) {
		dumpTimeline(t, res)
		t.Fatalf("codes %v, want [page.harness_tampered] (prefilled, and the forged calls reported)", got)
	}
	for _, e := range res.Timeline {
		if e.Event == timeline.HarnessError && strings.Contains(fmt.Sprint(e.Data), "flooded the harness binding") {
			t.Errorf("the page reached the binding: %v", e.Data)
		}
	}
}
