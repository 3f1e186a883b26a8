package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-rod/rod/lib/proto"
)

// TestDevDump is a developer aid, skipped unless DUMP names a folder: it
// writes every sample report there (one folder each) with a 1280 px
// full-page screenshot of its HTML, for a human to look at.
func TestDevDump(t *testing.T) {
	root := os.Getenv("DUMP")
	if root == "" {
		t.Skip("DUMP not set")
	}
	b := startChromium(t)
	p, err := b.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: 1280, Height: 900, DeviceScaleFactor: 1}); err != nil {
		t.Fatal(err)
	}
	for _, fx := range fixtures() {
		dir := filepath.Join(root, fx.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		r := fx.build(t, dir)
		r.Finalize()
		if _, err := WriteAll(dir, r, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(filepath.Join(dir, "summary.txt"))
		if err != nil {
			t.Fatal(err)
		}
		WriteSummary(f, r, filepath.Join(dir, HTMLFile))
		f.Close()
		if err := p.Navigate("file://" + filepath.Join(dir, HTMLFile)); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitLoad(); err != nil {
			t.Fatal(err)
		}
		png, err := p.Screenshot(true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, fx.name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDevShoot screenshots an existing report (SHOOT=path/report.html) at
// 1280 and 390 px into SHOOT_OUT: a developer aid for real runs.
func TestDevShoot(t *testing.T) {
	file, out := os.Getenv("SHOOT"), os.Getenv("SHOOT_OUT")
	if file == "" || out == "" {
		t.Skip("SHOOT and SHOOT_OUT not set")
	}
	b := startChromium(t)
	p, err := b.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	w := watchPage(t, p)
	for _, width := range []int{1280, 390} {
		if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: width, Height: 900, DeviceScaleFactor: 1, Mobile: width < 500}); err != nil {
			t.Fatal(err)
		}
		if err := p.Navigate("file://" + file); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitLoad(); err != nil {
			t.Fatal(err)
		}
		if os.Getenv("SHOOT_OPEN") != "" {
			if _, err := p.Eval(`() => document.querySelectorAll('details').forEach(d => d.open = true)`); err != nil {
				t.Fatal(err)
			}
		}
		png, err := p.Screenshot(true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, "shot-"+string(rune('0'+width/390))+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	reqs, errs := w.snapshot()
	for _, e := range errs {
		t.Errorf("console: %s", e)
	}
	for _, u := range reqs {
		if u != "file://"+file && !strings.HasPrefix(u, "data:") {
			t.Errorf("request besides the file: %s", u)
		}
	}
}

// TestDevRender rewrites the reports of an existing run from its
// report.json (RENDER=dir): a developer aid for the writers.
func TestDevRender(t *testing.T) {
	dir := os.Getenv("RENDER")
	if dir == "" {
		t.Skip("RENDER not set")
	}
	b, err := os.ReadFile(filepath.Join(dir, JSONFile))
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteAll(dir, &r, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestDevLoadShot screenshots the viewport at a page load of an existing
// report (SHOOT=path/report.html, SHOOT_OUT=dir), with its sequence diagram
// scrolled down by 400 px, at 1280 and 390 px: the lane names must stay
// visible. A developer aid.
func TestDevLoadShot(t *testing.T) {
	file, out := os.Getenv("SHOOT"), os.Getenv("SHOOT_OUT")
	if file == "" || out == "" {
		t.Skip("SHOOT and SHOOT_OUT not set")
	}
	b := startChromium(t)
	p, err := b.Page(proto.TargetCreateTarget{URL: "about:blank"})
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{1280, 390} {
		if err := p.SetViewport(&proto.EmulationSetDeviceMetricsOverride{Width: width, Height: 1000, DeviceScaleFactor: 1, Mobile: width < 500}); err != nil {
			t.Fatal(err)
		}
		if err := p.Navigate("file://" + file + "#load-1"); err != nil {
			t.Fatal(err)
		}
		if err := p.WaitLoad(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Eval(`() => { const d = document.querySelector('#load-1 .diagram'); d.scrollIntoView(); d.scrollTop = 400; d.scrollLeft = 120; window.scrollBy(0, -60); }`); err != nil {
			t.Fatal(err)
		}
		png, err := p.Screenshot(false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(out, fmt.Sprintf("load-%d.png", width)), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
