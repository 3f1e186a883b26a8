package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/cdproto/har"

	"github.com/qualcert/qualcert/reports"
)

// maxReplayHAR bounds the HAR file run --replay reads.
const maxReplayHAR = 512 << 20

// loadReplay reads the HAR of run --replay: a HAR 1.2 file (qualcert run
// --har --reveal, or the browser's "Save all as HAR with content"). A HAR
// that qualcert redacted is refused: the page's token is not in it.
func loadReplay(path string) (*har.HAR, time.Time, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the capture: %w", err)
	}
	if st.Size() > maxReplayHAR {
		return nil, time.Time{}, fmt.Errorf("the capture %s is %d bytes, over the %d qualcert reads", path, st.Size(), maxReplayHAR)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("reading the capture: %w", err)
	}
	var h har.HAR
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, time.Time{}, fmt.Errorf("the capture %s is not a HAR file: %v", path, err)
	}
	if h.Log == nil || len(h.Log.Entries) == 0 {
		return nil, time.Time{}, fmt.Errorf("the capture %s has no requests (log.entries)", path)
	}
	if reports.IsRedactedHAR(&h) {
		return nil, time.Time{}, fmt.Errorf("the capture %s was redacted by qualcert run --har (evidence only: tokens and participant values are fingerprints, so it cannot be replayed); record it again with qualcert run --har --reveal, or use the browser's \"Save all as HAR with content\"", path)
	}
	// the page start: the capture's page, else its first request
	start := ""
	if len(h.Log.Pages) > 0 && h.Log.Pages[0] != nil {
		start = h.Log.Pages[0].StartedDateTime
	}
	if start == "" && h.Log.Entries[0] != nil {
		start = h.Log.Entries[0].StartedDateTime
	}
	at, err := time.Parse(time.RFC3339Nano, start)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("the capture %s has no readable page start (%q): give --at", path, start)
	}
	return &h, at.UTC(), nil
}

// replayRef is how the reports name the capture replayed.
func replayRef(path string, h *har.HAR, start time.Time) string {
	// The file's name only: a report is shared, and the folder a support
	// engineer keeps captures in often names the customer or the engineer.
	return fmt.Sprintf("%s (page load started %s, %d requests)", filepath.Base(path), start.Format(time.RFC3339), len(h.Log.Entries))
}
