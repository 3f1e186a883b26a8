package reports

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"

	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/finding"
)

// startChromium launches Debian's headless Chromium with the project's own
// launcher (harness/browser: never a download, nothing phoning home, its
// process group and temporary profile gone at Close).
func startChromium(t *testing.T) *rod.Browser {
	t.Helper()
	if _, err := browser.FindBinary(""); err != nil {
		t.Skipf("no Chromium: %v", err)
	}
	b, err := browser.Launch(t.Context(), browser.Config{})
	if err != nil {
		t.Fatalf("launching Chromium: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b.Rod().Timeout(60 * time.Second)
}

// pageWatch records every network request and every console error or
// exception of a page.
type pageWatch struct {
	mu       sync.Mutex
	requests []string
	errors   []string
}

func (w *pageWatch) add(list *[]string, s string) {
	w.mu.Lock()
	*list = append(*list, s)
	w.mu.Unlock()
}

func (w *pageWatch) snapshot() (req, errs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.requests...), append([]string(nil), w.errors...)
}

func watchPage(t *testing.T, p *rod.Page) *pageWatch {
	t.Helper()
	for _, enable := range []interface{ Call(proto.Client) error }{proto.NetworkEnable{}, proto.RuntimeEnable{}, proto.LogEnable{}} {
		if err := enable.Call(p); err != nil {
			t.Fatalf("enabling CDP domain: %v", err)
		}
	}
	w := &pageWatch{}
	go p.EachEvent(
		func(e *proto.NetworkRequestWillBeSent) { w.add(&w.requests, e.Request.URL) },
		func(e *proto.RuntimeConsoleAPICalled) {
			if e.Type == proto.RuntimeConsoleAPICalledTypeError || e.Type == proto.RuntimeConsoleAPICalledTypeWarning {
				w.add(&w.errors, "console."+string(e.Type))
			}
		},
		func(e *proto.RuntimeExceptionThrown) { w.add(&w.errors, "exception: "+e.ExceptionDetails.Text) },
		func(e *proto.LogEntryAdded) {
			if e.Entry.Level == proto.LogLogEntryLevelError || e.Entry.Level == proto.LogLogEntryLevelWarning {
				w.add(&w.errors, "log: "+e.Entry.Text)
			}
		},
	)()
	return w
}

func evalInt(t *testing.T, p *rod.Page, js string) int {
	t.Helper()
	res, err := p.Eval(js)
	if err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
	return res.Value.Int()
}

// TestHTMLInChromium opens report.html of a failed run with screenshots in
// headless Chromium, from file://: no console error or warning, no network
// request other than the file itself (data: URIs of the embedded
// screenshots are not requests and are not counted), the sections present,
// the screenshots decoded, the filter working. Full-page screenshots at
// 1280 px and 390 px (and in print media) go to $QUALCERT_SHOTS when set, for
// a human to look at.
func TestHTMLInChromium(t *testing.T) {
	dir := t.TempDir()
	r := screenshotReport(t, dir)
	(&AllowList{Entries: []AllowEntry{{Code: "pii.unknown_field", Reason: "nickname is a field we add on purpose", Line: 2}, {Code: "token.leaked", Reason: "fixed in 4.2", Line: 4}}}).Apply(r)
	r.Finalize()
	if _, err := WriteAll(dir, r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	file := "file://" + filepath.ToSlash(filepath.Join(dir, HTMLFile))

	b := startChromium(t)
	p, err := b.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatalf("opening a tab: %v", err)
	}
	w := watchPage(t, p)
	if err := p.Navigate(file); err != nil {
		t.Fatalf("opening the report: %v", err)
	}
	if err := p.WaitLoad(); err != nil {
		t.Fatalf("waiting for load: %v", err)
	}

	checks := map[string]int{
		`document.querySelectorAll('header.banner.v-failed h1').length`:     1,
		`document.querySelectorAll('#matrix table.matrix tbody tr').length`: len(finding.Requirements()),
		`document.querySelectorAll('#matrix thead th').length`:              3, // requirement + 2 campaigns
		`document.querySelectorAll('#findings .finding').length`:            len(r.Findings),
		`document.querySelectorAll('#scenarios details.scenario').length`:   len(r.Scenarios),
		`document.querySelectorAll('details.scenario svg .ev').length`:      len(r.Scenarios[0].Timeline) + len(r.Scenarios[1].Timeline) + len(r.Scenarios[2].Timeline),
		`document.querySelectorAll('.token table.kv').length`:               2,
		`document.querySelectorAll('.shots .shot-img').length`:              2,
		`[...document.querySelectorAll('.shots .shot-img')].filter(e => getComputedStyle(e).backgroundImage.startsWith('url("data:image/png;base64,') && e.getBoundingClientRect().height > 100).length`: 2,
		`document.querySelectorAll('#stale li').length`:                     1,
		`document.querySelectorAll('#findings .finding.is-allowed').length`: 1,
		`document.querySelectorAll('.filters:not([hidden])').length`:        1,
	}
	for js, want := range checks {
		if got := evalInt(t, p, "() => "+js); got != want {
			t.Errorf("%s = %d, want %d", js, got, want)
		}
	}
	// the embedded screenshots decode as 320 px wide PNGs
	if got := evalInt(t, p, `async () => {
		let ok = 0;
		for (const e of document.querySelectorAll('.shots .shot-img')) {
			const url = getComputedStyle(e).backgroundImage.slice(5, -2);
			const img = new Image(); img.src = url; await img.decode();
			if (img.naturalWidth === 320) ok++;
		}
		return ok; }`); got != 2 {
		t.Errorf("%d screenshots decode as the 320 px PNGs, want 2", got)
	}
	// the filter hides the passed scenarios
	btn, err := p.Element(`button[data-filter="failed"]`)
	if err != nil {
		t.Fatal(err)
	}
	if err := btn.Click(proto.InputMouseButtonLeft, 1); err != nil {
		t.Fatal(err)
	}
	if got := evalInt(t, p, `() => [...document.querySelectorAll('details.scenario')].filter(d => !d.hidden).length`); got != 1 {
		t.Errorf("%d scenarios visible under the failed filter, want 1", got)
	}
	if all, err := p.Element(`button[data-filter="all"]`); err == nil {
		_ = all.Click(proto.InputMouseButtonLeft, 1)
	}
	// the text filter narrows scenarios and findings; screenshots link to
	// their files; the diagram's lane names are a sticky header
	q, err := p.Element(`#q:not([hidden])`)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Input("slow network"); err != nil {
		t.Fatal(err)
	}
	if got := evalInt(t, p, `() => [...document.querySelectorAll('details.scenario')].filter(d => !d.classList.contains('no-match')).length`); got != 1 {
		t.Errorf("%d scenarios match \"slow network\", want 1", got)
	}
	if err := q.SelectAllText(); err == nil {
		_ = q.Input("")
	}
	for js, want := range map[string]int{
		`document.querySelectorAll('.shots a[href$=".png"] .shot-img').length`:                                          2,
		`[...document.querySelectorAll('.diagram-head')].filter(e => getComputedStyle(e).position === 'sticky').length`: 3,
	} {
		if got := evalInt(t, p, "() => "+js); got != want {
			t.Errorf("%s = %d, want %d", js, got, want)
		}
	}

	if shots := os.Getenv("QUALCERT_SHOTS"); shots != "" {
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, vp := range []struct {
			name   string
			width  int
			mobile bool
			media  string
		}{{"desktop-1280", 1280, false, ""}, {"phone-390", 390, true, ""}, {"print-800", 800, false, "print"}} {
			if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: vp.width, Height: 900, DeviceScaleFactor: 1, Mobile: vp.mobile}); err != nil {
				t.Fatal(err)
			}
			if err := (proto.EmulationSetEmulatedMedia{Media: vp.media}).Call(p); err != nil {
				t.Fatal(err)
			}
			// a fresh load at this width, as a phone would open the file
			if err := p.Navigate(file); err != nil {
				t.Fatal(err)
			}
			if err := p.WaitLoad(); err != nil {
				t.Fatal(err)
			}
			if vp.media == "print" { // what the beforeprint handler does
				if _, err := p.Eval(`() => document.querySelectorAll('details').forEach(d => d.open = true)`); err != nil {
					t.Fatal(err)
				}
			}
			if sw := evalInt(t, p, `() => document.documentElement.scrollWidth`); sw > vp.width {
				t.Errorf("%s: the page is %d px wide, wider than the %d px viewport", vp.name, sw, vp.width)
			}
			png, err := p.Screenshot(true, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
			if err != nil {
				t.Fatalf("screenshot %s: %v", vp.name, err)
			}
			out := filepath.Join(shots, "report-"+vp.name+".png")
			if err := os.WriteFile(out, png, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("wrote %s", out)
		}
	}
	// nothing is loaded late: read the page once more, then the record
	if evalInt(t, p, `() => document.readyState === 'complete' ? 1 : 0`) != 1 {
		t.Error("document not complete")
	}
	reqs, errs := w.snapshot()
	for _, e := range errs {
		t.Errorf("console: %s", e)
	}
	var network []string
	for _, u := range reqs {
		if u != file && !strings.HasPrefix(u, "data:") {
			network = append(network, u)
		}
	}
	if len(network) > 0 {
		t.Errorf("report.html made %d request(s) besides itself: %v", len(network), network)
	}
	if len(reqs) == 0 {
		t.Error("saw no request at all: the watcher is not working")
	}
}
