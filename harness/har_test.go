package harness

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
)

// With Options.HAR a page load keeps its requests with their bodies, also
// when the run breaks: the requests made so far are the evidence.
func TestHARKeepsThePageRequests(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	h, err := Start(ctx, Options{BrowserBin: os.Getenv("QUALCERT_BROWSER_BIN"), HAR: true})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	f := newFixture(t)
	f.mux.HandleFunc("/pixel.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("pixel body"))
	})
	u := f.page("/plain", `<!doctype html><html><body><h1>Contest</h1><script>
fetch('/pixel.txt').then(r => r.text()).then(t => { document.body.dataset.got = t; });
</script></body></html>`)
	res, err := h.Run(ctx, Scenario{Name: t.Name(), Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if res.HAR == nil || res.HAR.Log == nil {
		t.Fatal("no HAR in the result")
	}
	seen := map[string]string{}
	for _, e := range res.HAR.Log.Entries {
		seen[e.Request.URL] = string(e.Response.Content.Text)
	}
	if !strings.Contains(seen[u], "<h1>Contest</h1>") || seen[f.srv.URL+"/pixel.txt"] != "pixel body" {
		t.Fatalf("HAR entries: %v", seen)
	}
	if len(res.HAR.Log.Pages) != 1 || res.HAR.Log.Version != "1.2" {
		t.Fatalf("HAR log: version %q, pages %v", res.HAR.Log.Version, res.HAR.Log.Pages)
	}

	// a run that breaks keeps what the page requested before
	hang := f.page("/hang", `<!doctype html><html><body><script>while(true){}</script></body></html>`)
	p := f.profile(hang, 1)
	p.Timing.Timeout = 4e9
	res, err = h.Run(ctx, Scenario{Name: t.Name(), Profile: p})
	wantBroken(t, res, err, finding.EnvTimeout)
	if res.HAR == nil || len(res.HAR.Log.Entries) == 0 || res.HAR.Log.Entries[0].Request.URL != hang {
		t.Fatalf("a broken run's HAR: %+v", res.HAR)
	}
}
