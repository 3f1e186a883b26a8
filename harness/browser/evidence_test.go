package browser

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestEvidence captures two iframes and the viewport in the layouts
// Evidence handles differently: both iframes in the final viewport (cut out
// of the viewport's capture), the first one scrolled out of it by the second
// (scrolled back, then the final position restored), and the last one taller
// than the viewport (captured beyond it). Each element capture must be exactly the
// element (green top, red bottom: the inner page), the page capture the
// viewport at the last element's scroll position, and a missing element an
// error naming its selector.
func TestEvidence(t *testing.T) {
	t.Parallel()
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body style="margin:0;background:#f00"><div style="background:#0f0;height:50px"></div></body></html>`)
	}))
	defer inner.Close()
	outer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintf(w, `<html><body style="margin:0;background:#00f">
<div style="height:%spx"></div><iframe id=a style="border:0;display:block" src="%s" width=300 height=200></iframe>
<div style="height:100px"></div><iframe id=b style="border:0;display:block" src="%s" width=400 height=%s></iframe>
<div style="height:3000px;background:#ff0"></div></body></html>`, q.Get("top"), inner.URL, inner.URL, q.Get("h"))
	}))
	defer outer.Close()

	for _, tc := range []struct {
		query      string
		bHeight    int
		pageBottom string // colour at the bottom of the viewport capture
	}{
		{"top=10&h=150", 150, "ffff00"},   // both in view, no scroll
		{"top=1500&h=150", 150, "ff0000"}, // #a scrolled out by #b; the viewport ends on #b
		{"top=10&h=1500", 1500, "ff0000"}, // #b taller than the viewport: the viewport shows its top
	} {
		t.Run(tc.query, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			s, err := shared.NewSession(ctx, SessionConfig{Width: 800, Height: 600})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Navigate(ctx, outer.URL+"/?"+tc.query); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Eval(ctx, `new Promise(r => document.readyState === "complete" ? r(true) : addEventListener("load", () => r(true)))`); err != nil {
				t.Fatal(err)
			}
			els, page := s.Evidence(ctx, 5*time.Second, []string{"#a", "#nope", "#b"})
			if els[1].Err == nil || !strings.Contains(els[1].Err.Error(), `"#nope"`) {
				t.Errorf("missing element: err = %v", els[1].Err)
			}
			for i, want := range map[int]image.Point{0: {300, 200}, 2: {400, tc.bHeight}} {
				if els[i].Err != nil {
					t.Fatalf("element %d: %v", i, els[i].Err)
				}
				img := decode(t, els[i].PNG)
				if img.Bounds().Size() != want {
					t.Errorf("element %d: size %v, want %v", i, img.Bounds().Size(), want)
				}
				if top, bottom := colour(img, 5, 5), colour(img, 5, want.Y-5); top != "00ff00" || bottom != "ff0000" {
					t.Errorf("element %d: top %s bottom %s, want the inner page (00ff00 over ff0000)", i, top, bottom)
				}
			}
			if page.Err != nil {
				t.Fatal(page.Err)
			}
			img := decode(t, page.PNG)
			if img.Bounds().Size() != (image.Point{800, 600}) {
				t.Errorf("page: size %v, want the viewport", img.Bounds().Size())
			}
			if got := colour(img, 5, 595); got != tc.pageBottom {
				t.Errorf("page: bottom-left %s, want %s", got, tc.pageBottom)
			}
		})
	}
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("decoding a capture: %v", err)
	}
	return img
}

func colour(img image.Image, x, y int) string {
	r, g, b, _ := img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y).RGBA()
	return fmt.Sprintf("%02x%02x%02x", r>>8, g>>8, b>>8)
}

// TestEvidenceLiftsTheCPUThrottle: the evidence of a throttled session is
// taken at full speed (the emulated slow CPU is for the flow, which is
// over), and the captures are those of an unthrottled one.
func TestEvidenceLiftsTheCPUThrottle(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<html><body style="margin:0;background:#00f"><div id=a style="background:#0f0;width:100px;height:50px"></div></body></html>`)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := shared.NewSession(ctx, SessionConfig{Width: 800, Height: 600})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Throttle(ctx, 4, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Navigate(ctx, srv.URL); err != nil {
		t.Fatal(err)
	}
	els, page := s.Evidence(ctx, 5*time.Second, []string{"#a"})
	if els[0].Err != nil || page.Err != nil {
		t.Fatalf("captures: element %v, page %v", els[0].Err, page.Err)
	}
	if got := colour(decode(t, els[0].PNG), 5, 5); got != "00ff00" {
		t.Errorf("element: %s, want 00ff00", got)
	}
	s.mu.Lock()
	rate := s.cpuRate
	s.mu.Unlock()
	if rate != 1 {
		t.Errorf("CPU throttling rate after the evidence: %v, want 1 (lifted)", rate)
	}
}

// uniform tells a capture Chromium handed back before painting (one colour
// over the whole element) from one that shows something.
func TestUniformCapture(t *testing.T) {
	encode := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	white := image.NewRGBA(image.Rect(0, 0, 40, 30))
	draw.Draw(white, white.Bounds(), image.White, image.Point{}, draw.Src)
	if !uniform(encode(white)) {
		t.Error("an all-white capture is not uniform")
	}
	white.Set(39, 29, color.Black)
	if uniform(encode(white)) {
		t.Error("a capture with one dark pixel is uniform")
	}
	if uniform([]byte("not a png")) {
		t.Error("an undecodable capture is uniform")
	}
}
