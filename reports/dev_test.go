package reports

import (
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
