package reports_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
	"github.com/qualcert/qualcert/steps"
)

// hostilePrivacyPage fetches the participant's token like the demo page,
// then, before handing it to setMetaData, writes every string of its
// payload and the token itself everywhere a harness captures text: the
// console (plain, upper-case, URL-encoded, base64), an alert, the page URL
// (history.replaceState) and a custom _qual_async command.
const hostilePrivacyPage = `<!doctype html><html><body><h1>Hostile</h1><div id="%[1]s"></div>
<script>
var DIV = %[1]q;
var _qual_async = window._qual_async || [];
_qual_async.push(['createIframe', DIV, %[2]q, 'channel', 'GUID-1', '100%%', '650']);
fetch('/api/token?variant=jws-inline&div=' + DIV, {credentials: 'include'}).then(function (r) { return r.json(); }).then(function (j) {
  var tok = j.token;
  navigator.sendBeacon('/capture', tok);
  var seg = tok.split('.')[1];
  var payload = JSON.parse(decodeURIComponent(escape(atob(seg.replace(/-/g, '+').replace(/_/g, '/')))));
  var vals = [];
  (function walk(o) { for (var k in o) { var v = o[k]; if (typeof v === 'string') vals.push(v); else if (v && typeof v === 'object') walk(v); } })(payload);
  vals.forEach(function (v) {
    console.error('participant ' + v + ' / ' + v.toUpperCase() + ' / ' + encodeURIComponent(v) + ' / ' + btoa(unescape(encodeURIComponent(v))));
  });
  console.error('token', tok, seg);
  history.replaceState(null, '', '?u=' + encodeURIComponent(vals.slice(0, 3).join(',')));
  _qual_async.push(['trackUser', vals.join(' ')]);
  alert('Welcome ' + vals.join(' '));
  _qual_async.push(['setMetaData', 'JWT', tok, DIV]);
});
(function(){var s=document.createElement('script');s.async=true;s.src='https://files.qualifio.com/kit/qualp.2.min.js';document.head.appendChild(s);})();
</script></body></html>`

// forms are the spellings of a value a privacy check greps for.
func forms(v string) []string {
	return []string{v, strings.ToUpper(v), url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
}

// TestRedactionOfAHostilePage: a page that writes the participant's values
// and token everywhere before the token is verified; every output of the
// run (report.json, report.html, junit.xml, cucumber.json, progress log,
// terminal summary) holds none of them, in any form, nor any segment of
// the token.
func TestRedactionOfAHostilePage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := os.Stat("/usr/bin/chromium"); err != nil {
		t.Skip("no Chromium at /usr/bin/chromium")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	p, err := srv.Profile("jws-inline")
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	var captured []string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/hostile":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, hostilePrivacyPage, p.Campaigns[0].DivID, p.Campaigns[0].Host)
		case "/capture":
			b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<16))
			mu.Lock()
			captured = append(captured, string(b))
			mu.Unlock()
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	defer site.Close()
	p.Page.URL = site.URL + "/hostile"
	p.Campaigns = p.Campaigns[:1]

	dir := t.TempDir()
	var progress bytes.Buffer
	r, err := steps.Run(ctx, steps.Config{
		Profile: p, Tags: "@inline-pii,@security", Concurrency: 2, ReportDir: dir, Progress: &progress,
		Browser: harness.Options{BrowserBin: "/usr/bin/chromium"}, ToolVersion: "test",
	})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	r.Finalize()
	if _, err := reports.WriteAll(dir, r, reports.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var summary bytes.Buffer
	reports.WriteSummaryWith(&summary, r, filepath.Join(dir, reports.HTMLFile), reports.SummaryOptions{})
	outputs := map[string]string{"progress log": progress.String(), "summary": summary.String()}
	for _, f := range []string{reports.JSONFile, reports.HTMLFile, reports.JUnitFile, reports.CucumberFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		outputs[f] = string(b)
	}
	outputs[reports.HTMLFile] = base64Blob.ReplaceAllString(outputs[reports.HTMLFile], "base64,…")
	outputs[reports.CucumberFile] = stripEmbeddings(t, outputs[reports.CucumberFile])

	mu.Lock()
	tokens := append([]string(nil), captured...)
	mu.Unlock()
	if len(tokens) == 0 {
		t.Fatalf("the hostile page never got its token (verdict %s):\n%s", r.Verdict, progress.String())
	}
	if !strings.Contains(outputs[reports.JSONFile], "console") {
		t.Error("report.json records no console message: the hostile writes were not captured at all")
	}
	var secrets []string
	for _, v := range demoParticipant {
		secrets = append(secrets, forms(v)...)
	}
	for _, tok := range tokens {
		secrets = append(secrets, tok)
		for _, seg := range strings.Split(tok, ".") {
			if len(seg) >= 8 {
				secrets = append(secrets, seg)
			}
		}
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				i := strings.Index(out, s)
				t.Errorf("%s contains %.16q… at %q", name, s, out[max(0, i-60):min(len(out), i+len(s)+20)])
			}
		}
	}
}
