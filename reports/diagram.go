package reports

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/qualcert/qualcert/harness/timeline"
)

// The sequence diagram of a scenario: one vertical lane per party (page,
// kit, campaign, verifier, userinfo, and browser/harness when they took
// part), time running down, one row per timeline event. An event that is a
// message between two parties (the page pushing setMetaData to the kit, the
// campaign asking the verifier) is an arrow; anything else is a dot on its
// own lane. The geometry is computed here and drawn by the HTML template,
// so html/template escapes every label.

// diagram is what the template draws.
type diagram struct {
	ID        string // unique prefix for the SVG's marker ids
	Width     int
	Height    int
	Lanes     []diagramLane
	Rows      []diagramRow
	Truncated int // events not drawn (see report.json)
}

type diagramLane struct {
	Name  string
	X     int
	BoxX  int
	Label string
}

type diagramRow struct {
	Gap            string // "+839 ms": a pause before this event, drawn as a break
	GapY           int
	Y, LineY       int
	T              string // "12.5 ms"
	Arrow          bool
	X1, X2         int // arrow from X1 to X2, or dot at X1
	LabelX, LabelY int
	Anchor         string // text-anchor
	Label          string
	Class          string // ok, bad or "" (neutral)
	Title          string // full detail, shown on hover
}

const (
	diagramGutter  = 78 // time column
	diagramLaneGap = 128
	diagramHeader  = 44
	diagramRowH    = 28
	diagramMaxRows = 200
	diagramGapMs   = 250 // a pause this long is drawn as a break
	diagramGapH    = 16
)

var mainLanes = []timeline.Source{timeline.Page, timeline.Kit, timeline.Campaign, timeline.Verifier, timeline.UserInfo}

var laneLabels = map[timeline.Source]string{
	timeline.Page: "Page", timeline.Kit: "Kit", timeline.Campaign: "Campaign",
	timeline.Verifier: "Verifier", timeline.UserInfo: "User-info", timeline.Browser: "Browser", timeline.Harness: "Harness",
}

// route says how an event is drawn: an arrow from one party to another, or
// a dot on one lane (from == to).
func route(e timeline.Event) (from, to timeline.Source) {
	src := e.Source
	switch e.Event {
	case timeline.Navigation:
		return timeline.Browser, timeline.Page
	case timeline.KitRequest, timeline.Command, timeline.SetMetaData:
		return timeline.Page, timeline.Kit
	case timeline.CreateIframe, timeline.MetaData:
		return timeline.Kit, timeline.Campaign
	case timeline.GetMetaData:
		return timeline.Campaign, timeline.Kit
	case timeline.TokenVerified:
		return timeline.Campaign, timeline.Verifier
	case timeline.UserInfoCall:
		return timeline.Verifier, timeline.UserInfo
	case timeline.ErrorMessage:
		return timeline.Campaign, timeline.Page
	case timeline.FaultInjected:
		return timeline.Harness, timeline.Campaign
	case timeline.PostMessage:
		if f, t := sourceOf(e.Data["from"]), sourceOf(e.Data["to"]); f != "" && t != "" {
			return f, t
		}
		switch e.Data["direction"] {
		case "to-page", "to-parent":
			return timeline.Campaign, timeline.Page
		case "to-campaign", "to-iframe":
			if src == timeline.Campaign {
				return timeline.Page, timeline.Campaign
			}
			return src, timeline.Campaign
		}
	}
	if f, t := sourceOf(e.Data["from"]), sourceOf(e.Data["to"]); f != "" && t != "" {
		return f, t
	}
	return src, src
}

func sourceOf(v any) timeline.Source {
	s, _ := v.(string)
	switch src := timeline.Source(s); src {
	case timeline.Page, timeline.Kit, timeline.Campaign, timeline.Verifier, timeline.UserInfo, timeline.Browser, timeline.Harness:
		return src
	}
	return ""
}

// eventClass colours an event: bad for what hurts the participant or the
// verdict, ok for the happy end points.
func eventClass(e timeline.Event) string {
	switch e.Event {
	case timeline.Blocked, timeline.ErrorMessage, timeline.ConsoleError, timeline.TokenLeak, timeline.Timeout:
		return "bad"
	case timeline.FormPrefilled:
		return "ok"
	}
	for _, k := range []string{"ok", "valid"} {
		if b, isBool := e.Data[k].(bool); isBool {
			if b {
				return "ok"
			}
			return "bad"
		}
	}
	if st, ok := e.Data["status"].(float64); ok && st >= 400 {
		return "bad"
	}
	return ""
}

// eventDetail is the short text after the event name.
func eventDetail(e timeline.Event) string {
	for _, k := range []string{"valid", "ok"} {
		if b, isBool := e.Data[k].(bool); isBool {
			if b {
				return "valid"
			}
			if codes := valueText(e.Data["codes"]); codes != "" && codes != "null" && codes != "[]" {
				return "invalid " + strings.Trim(codes, "[]")
			}
			if c, ok := e.Data["code"].(string); ok {
				return "invalid " + c
			}
			return "invalid"
		}
	}
	msKeys := []string{"margin_ms", "duration_ms", "delay_ms", "latency_ms"}
	var others []string
	for k := range e.Data {
		if strings.HasSuffix(k, "_ms") && !slices.Contains(msKeys, k) && k != "run_ms" && !strings.HasSuffix(k, "metadata_ms") {
			others = append(others, k)
		}
	}
	sort.Strings(others)
	for _, k := range append(msKeys, others...) {
		if n, ok := number(e.Data[k]); ok {
			return strings.TrimSuffix(k, "_ms") + " " + valueText(n) + " ms"
		}
	}
	for _, k := range []string{"name", "type", "code", "status", "result", "reason", "kind", "fingerprint"} {
		if v, ok := e.Data[k]; ok && v != nil {
			s := fmt.Sprint(v)
			if _, isString := v.(string); !isString {
				s = valueText(v)
			}
			if s != "" && s != e.Event {
				return s
			}
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if n < 4 {
		n = 4
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func shortCampaign(c string) string {
	if i := strings.LastIndexByte(c, '_'); i >= 0 && i < len(c)-1 {
		return c[i+1:]
	}
	return truncate(c, 12)
}

// buildDiagram lays out the scenario's timeline; id must be unique in the
// document.
func buildDiagram(id string, evs []timeline.Event) *diagram {
	if len(evs) == 0 {
		return nil
	}
	d := &diagram{ID: id}
	drawn := evs
	if len(drawn) > diagramMaxRows {
		d.Truncated = len(drawn) - diagramMaxRows
		drawn = drawn[:diagramMaxRows]
	}
	present := map[timeline.Source]bool{}
	campaigns := map[string]bool{}
	for _, e := range drawn {
		f, t := route(e)
		present[f], present[t] = true, true
		if e.Campaign != "" {
			campaigns[e.Campaign] = true
		}
	}
	lanes := append([]timeline.Source(nil), mainLanes...)
	for _, extra := range []timeline.Source{timeline.Browser, timeline.Harness} {
		if present[extra] {
			lanes = append(lanes, extra)
		}
	}
	// sources outside the vocabulary still get a lane, after the known ones
	var unknown []string
	for s := range present {
		if _, ok := laneLabels[s]; !ok && s != "" {
			unknown = append(unknown, string(s))
		}
	}
	sort.Strings(unknown)
	for _, s := range unknown {
		lanes = append(lanes, timeline.Source(s))
	}
	x := map[timeline.Source]int{}
	for i, s := range lanes {
		cx := diagramGutter + diagramLaneGap/2 + i*diagramLaneGap
		x[s] = cx
		label := laneLabels[s]
		if label == "" {
			label = string(s)
		}
		d.Lanes = append(d.Lanes, diagramLane{Name: string(s), X: cx, BoxX: cx - diagramLaneGap/2 + 8, Label: label})
	}
	d.Width = diagramGutter + len(lanes)*diagramLaneGap + 8
	lastX := x[lanes[len(lanes)-1]]
	multi := len(campaigns) > 1
	y := diagramHeader + 18 - diagramRowH
	for i, e := range drawn {
		y += diagramRowH
		gap := ""
		if i > 0 {
			if dt := e.TMs - drawn[i-1].TMs; dt >= diagramGapMs {
				gap = fmt.Sprintf("+%.0f ms", dt)
				y += diagramGapH
			}
		}
		f, t := route(e)
		label := e.Event
		if det := eventDetail(e); det != "" {
			label += " · " + det
		}
		if multi && e.Campaign != "" {
			label += " [" + shortCampaign(e.Campaign) + "]"
		}
		title := fmt.Sprintf("%.1f ms · %s · %s", e.TMs, e.Source, e.Event)
		if e.Campaign != "" {
			title += " · campaign " + e.Campaign
		}
		if dt := dataText(e.Data); dt != "" {
			title += "\n" + dt
		}
		row := diagramRow{Gap: gap, GapY: y - diagramGapH/2 - 6, Y: y, LineY: y + 6, T: fmt.Sprintf("%.1f", e.TMs), Class: eventClass(e), Title: title}
		if f != t {
			row.Arrow = true
			row.X1, row.X2 = x[f], x[t]
			// one event per row: the label may run past the arrow, from its
			// left end, or end at the diagram's right edge
			left := min(row.X1, row.X2)
			row.Label = truncate(label, 60)
			row.LabelY = y
			row.LabelX, row.Anchor = left+6, "start"
			if w := left + 6 + textWidth(row.Label); w > d.Width-6 {
				row.LabelX, row.Anchor = max(row.X1, row.X2)-6, "end"
			}
		} else {
			row.X1 = x[f]
			row.LabelY = y + 10
			row.Label = truncate(label, 60)
			if row.X1 == lastX || row.X1+10+textWidth(row.Label) > d.Width-6 {
				row.LabelX, row.Anchor = row.X1-10, "end"
			} else {
				row.LabelX, row.Anchor = row.X1+10, "start"
			}
		}
		d.Rows = append(d.Rows, row)
	}
	d.Height = y + diagramRowH
	return d
}

// textWidth estimates the width of a label at 11.5 px.
func textWidth(s string) int { return utf8.RuneCountInString(s) * 13 / 2 }
