package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/har"

	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/reports"
)

func findingCodes(r reports.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, string(f.Code))
	}
	slices.Sort(out)
	return out
}

// A HAR recorded by run --har --reveal from a page replays with the page's
// server stopped, and gives the same verdict and codes; the report names
// the capture and judges the tokens as of its page start. A HAR that
// qualcert redacted is refused (exit 2).
// captureDemo records the demo's variant slug with run --har --reveal (one
// scenario), then stops the demo: the profile (its keys in a file) and the
// HAR outlive it.
func captureDemo(t *testing.T, slug string) (work string, common []string, harPath string, recorded reports.Report) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if _, err := exec.LookPath(defaultChromium); err != nil {
		t.Skip("no Chromium at " + defaultChromium)
	}
	srv, err := demo.Start(context.Background(), "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	work = t.TempDir()
	yml, err := srv.ProfileYAML(slug)
	if err != nil {
		t.Fatal(err)
	}
	// the keys as a file, so that the profile outlives the server
	jwksURL := regexp.MustCompile(`jwks_url: *(\S+)`).FindSubmatch(yml)
	if jwksURL == nil {
		t.Fatalf("the demo profile has no jwks_url:\n%s", yml)
	}
	res, err := http.Get(string(jwksURL[1]))
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := io.ReadAll(res.Body)
	res.Body.Close()
	jwksFile := filepath.Join(work, "jwks.json")
	if err := os.WriteFile(jwksFile, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	yml = regexp.MustCompile(`jwks_url: *\S+`).ReplaceAll(yml, []byte("jwks_file: "+jwksFile))
	profilePath := filepath.Join(work, "customer.yaml")
	if err := os.WriteFile(profilePath, yml, 0o600); err != nil {
		t.Fatal(err)
	}
	featDir := filepath.Join(work, "features")
	if err := os.Mkdir(featDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(featDir, "contest.feature"), []byte(prefilledFeature), 0o644); err != nil {
		t.Fatal(err)
	}
	common = []string{"--profile", profilePath, "--features", featDir, "--features-only"}

	recDir := filepath.Join(work, "recorded")
	code, out, stderr := runCLI(t, append(common, "--report-dir", recDir, "--har", "--reveal")...)
	if code != exitOK {
		t.Fatalf("recording: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	recorded = readReport(t, recDir)
	for _, a := range recorded.PageLoads[0].Attachments {
		if a.MediaType == reports.HARMediaType {
			harPath = filepath.Join(recDir, filepath.FromSlash(a.Path))
		}
	}
	if harPath == "" {
		t.Fatal("no HAR recorded")
	}
	return work, common, harPath, recorded
}

func TestRunReplaysACapture(t *testing.T) {
	work, common, harPath, recorded := captureDemo(t, "jws-inline")
	var code int
	var out, stderr string

	repDir := filepath.Join(work, "replayed")
	code, out, stderr = runCLI(t, append(common, "--report-dir", repDir, "--replay", harPath)...)
	if code != exitOK {
		t.Fatalf("replay: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	replayed := readReport(t, repDir)
	if replayed.Verdict != recorded.Verdict || !slices.Equal(findingCodes(replayed), findingCodes(recorded)) {
		t.Fatalf("replay: verdict %s codes %v; recorded: verdict %s codes %v", replayed.Verdict, findingCodes(replayed), recorded.Verdict, findingCodes(recorded))
	}
	if !strings.Contains(replayed.Replay, filepath.Base(harPath)) || replayed.JudgedAsOf == nil {
		t.Fatalf("the replay's report: replay %q, judged as of %v", replayed.Replay, replayed.JudgedAsOf)
	}

	// the same capture as a browser's developer tools save it ("Save all as
	// HAR with content"): creator WebInspector, no qualcert comment, the
	// Chromium-only fields, every body base64-encoded
	devPath := filepath.Join(work, "devtools.har")
	if err := os.WriteFile(devPath, asDevToolsHAR(t, harPath), 0o644); err != nil {
		t.Fatal(err)
	}
	devDir := filepath.Join(work, "devtools")
	code, out, stderr = runCLI(t, append(common, "--report-dir", devDir, "--replay", devPath)...)
	if code != exitOK {
		t.Fatalf("replay of a developer tools HAR: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if dev := readReport(t, devDir); dev.Verdict != recorded.Verdict || !slices.Equal(findingCodes(dev), findingCodes(recorded)) {
		t.Fatalf("developer tools HAR: verdict %s codes %v; recorded: verdict %s codes %v", dev.Verdict, findingCodes(dev), recorded.Verdict, findingCodes(recorded))
	}

	// a HAR redacted by qualcert is evidence: refused
	raw, err := os.ReadFile(harPath)
	if err != nil {
		t.Fatal(err)
	}
	var h har.HAR
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	// a request the capture lacks is answered 404 and noted
	var kept []*har.Entry
	for _, e := range h.Log.Entries {
		if !strings.HasSuffix(e.Request.URL, ".css") {
			kept = append(kept, e)
		}
	}
	if len(kept) == len(h.Log.Entries) {
		t.Fatal("the capture has no style sheet to leave out")
	}
	lacking := h
	lackingLog := *h.Log
	lackingLog.Entries = kept
	lacking.Log = &lackingLog
	part, err := reports.MarshalHAR(&lacking, "test", true)
	if err != nil {
		t.Fatal(err)
	}
	partPath := filepath.Join(work, "partial.har")
	if err := os.WriteFile(partPath, part, 0o644); err != nil {
		t.Fatal(err)
	}
	partDir := filepath.Join(work, "partial")
	code, out, stderr = runCLI(t, append(common, "--report-dir", partDir, "--replay", partPath)...)
	if code != exitOK {
		t.Fatalf("replay of a partial capture: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if codes := findingCodes(readReport(t, partDir)); !slices.Contains(codes, "env.replay_missing") {
		t.Fatalf("replay of a capture without its style sheet: codes %v, want env.replay_missing", codes)
	}

	red, err := reports.MarshalHAR(&h, "test", false)
	if err != nil {
		t.Fatal(err)
	}
	redPath := filepath.Join(work, "redacted.har")
	if err := os.WriteFile(redPath, red, 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, append(common, "--report-dir", filepath.Join(work, "refused"), "--replay", redPath)...)
	if code != exitUsage || !strings.Contains(stderr, "redacted") {
		t.Fatalf("a redacted HAR: exit %d, stderr %q; want exit 2 saying it is redacted", code, stderr)
	}
}

// A replay of a page whose tokens carry an access token, with the
// user-info webservice gone with the page's server: userinfo.not_checked
// (info), and the run says it is no certification.
func TestRunReplayWithoutUserInfoIsNotACertification(t *testing.T) {
	work, common, harPath, _ := captureDemo(t, "jws-access-token")
	dir := filepath.Join(work, "replayed")
	code, out, stderr := runCLI(t, append(common, "--report-dir", dir, "--replay", harPath)...)
	r := readReport(t, dir)
	codes := findingCodes(r)
	if !slices.Contains(codes, "userinfo.not_checked") || slices.Contains(codes, "userinfo.unreachable") || !r.Partial {
		t.Fatalf("exit %d, codes %v, partial %v (%s)\nstdout:\n%s\nstderr:\n%s", code, codes, r.Partial, r.PartialReason, out, stderr)
	}
	t.Logf("exit %d, verdict %s, codes %v", code, r.Verdict, codes)
}

// asDevToolsHAR rewrites a HAR qualcert recorded with --reveal the way
// Chromium's developer tools write one: creator WebInspector without a
// comment, pages with Chromium's ids, entries with _resourceType,
// _initiator, _priority, serverIPAddress and connection, and each response
// body base64-encoded with "encoding": "base64".
func asDevToolsHAR(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	log := doc["log"].(map[string]any)
	log["creator"] = map[string]any{"name": "WebInspector", "version": "537.36"}
	for _, p := range asSlice(log["pages"]) {
		p.(map[string]any)["id"] = "page_1"
	}
	for _, e := range asSlice(log["entries"]) {
		entry := e.(map[string]any)
		entry["pageref"] = "page_1"
		entry["_resourceType"] = "document"
		entry["_initiator"] = map[string]any{"type": "other"}
		entry["_priority"] = "VeryHigh"
		entry["serverIPAddress"] = "127.0.0.1"
		entry["connection"] = "1"
		content, _ := entry["response"].(map[string]any)["content"].(map[string]any)
		if text, ok := content["text"].(string); ok && content["encoding"] == nil {
			content["text"] = base64.StdEncoding.EncodeToString([]byte(text))
			content["encoding"] = "base64"
		}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func asSlice(v any) []any { s, _ := v.([]any); return s }
