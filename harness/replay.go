package harness

import (
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/chromedp/cdproto/har"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/kit"
)

// replayer answers every request of the page from a HAR (Options.Replay):
// the Qualifio side (loader, campaign hosts) is the reference kit as in
// every run; any other request is answered with the captured response of
// the same method and URL, in capture order when the page asked the same
// URL several times; a request the capture lacks gets a 404 and an
// env.replay_missing note.
type replayer struct {
	kit *kit.Server
	run *run

	mu      sync.Mutex
	byKey   map[string][]*har.Entry
	served  map[string]int
	missing []string // method and URL of the requests the capture lacks, in order
}

func newReplayer(k *kit.Server, r *run, h *har.HAR) *replayer {
	p := &replayer{kit: k, run: r, byKey: map[string][]*har.Entry{}, served: map[string]int{}}
	if h != nil && h.Log != nil {
		for _, e := range h.Log.Entries {
			if e == nil || e.Request == nil || e.Response == nil {
				continue
			}
			key := replayKey(e.Request.Method, e.Request.URL)
			p.byKey[key] = append(p.byKey[key], e)
		}
	}
	return p
}

func replayKey(method, url string) string {
	if i := strings.IndexByte(url, '#'); i >= 0 {
		url = url[:i]
	}
	return strings.ToUpper(method) + " " + url
}

// hopHeaders describe the captured transfer, not the body the HAR holds
// (decoded, whole): they are not replayed.
var hopHeaders = map[string]bool{"content-encoding": true, "content-length": true, "transfer-encoding": true, "connection": true, "keep-alive": true}

func (p *replayer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Hostname()
	if p.kit.IsLoader(r.URL) || p.kit.IsCampaignHost(host) || kit.IsQualifioHost(host) {
		p.kit.ServeHTTP(w, r)
		return
	}
	key := replayKey(r.Method, r.URL.String())
	p.mu.Lock()
	list := p.byKey[key]
	var e *har.Entry
	if n := len(list); n > 0 {
		i := p.served[key]
		if i >= n {
			i = n - 1 // asked more often than captured: the last answer again
		}
		e = list[i]
		p.served[key]++
	} else {
		p.missing = append(p.missing, key)
	}
	p.mu.Unlock()
	if e == nil {
		http.Error(w, "qualcert --replay: the capture has no answer to "+key, http.StatusNotFound)
		return
	}
	for _, h := range e.Response.Headers {
		if h != nil && !hopHeaders[strings.ToLower(h.Name)] {
			w.Header().Add(h.Name, h.Value)
		}
	}
	status := int(e.Response.Status)
	if status < 100 || status > 999 {
		status = http.StatusBadGateway // the captured request failed (no response)
	}
	w.WriteHeader(status)
	if e.Response.Content != nil {
		_, _ = w.Write(e.Response.Content.Text)
	}
}

// findings are the env.replay_missing notes of the run: one per request
// the capture lacks (method and URL, scrubbed like every text).
func (p *replayer) findings() []finding.Finding {
	p.mu.Lock()
	keys := append([]string(nil), p.missing...)
	p.mu.Unlock()
	seen := map[string]bool{}
	var out []finding.Finding
	sort.Strings(keys)
	for _, k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		f := finding.New(finding.EnvReplayMissing, "the capture has no answer to %s: it was answered 404", p.run.redactText(k))
		f.Scenario = p.run.sc.Name
		out = append(out, f)
	}
	return out
}
