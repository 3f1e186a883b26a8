package reports

import (
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

func TestDiagramLayout(t *testing.T) {
	evs := failedReport().Scenarios[0].Timeline
	d := buildDiagram("d1", evs)
	if len(d.Rows) != len(evs) || d.Truncated != 0 {
		t.Fatalf("%d rows for %d events", len(d.Rows), len(evs))
	}
	lanes := map[string]int{}
	for _, l := range d.Lanes {
		lanes[l.Name] = l.X
	}
	for _, want := range []string{"page", "kit", "campaign", "verifier", "userinfo", "browser"} {
		if _, ok := lanes[want]; !ok {
			t.Errorf("no %s lane", want)
		}
	}
	if _, ok := lanes["harness"]; ok {
		t.Error("a harness lane with no harness event")
	}
	byEvent := map[string]diagramRow{}
	for i, e := range evs {
		if _, seen := byEvent[e.Event]; !seen {
			byEvent[e.Event] = d.Rows[i]
		}
	}
	arrow := func(event, from, to string) {
		t.Helper()
		r := byEvent[event]
		if !r.Arrow || r.X1 != lanes[from] || r.X2 != lanes[to] {
			t.Errorf("%s: arrow %v from %d to %d, want %s(%d) → %s(%d)", event, r.Arrow, r.X1, r.X2, from, lanes[from], to, lanes[to])
		}
	}
	arrow(timeline.CreateIframe, "kit", "campaign")
	arrow(timeline.GetMetaData, "campaign", "kit")
	arrow(timeline.SetMetaData, "page", "kit")
	arrow(timeline.TokenVerified, "campaign", "verifier")
	arrow(timeline.ErrorMessage, "campaign", "page")
	if r := byEvent[timeline.Blocked]; r.Arrow || r.Class != "bad" || r.X1 != lanes["campaign"] {
		t.Errorf("campaign.blocked: %+v, want a red dot on the campaign lane", r)
	}
	if r := byEvent[timeline.TokenVerified]; r.Class != "bad" || r.Label != "token.verified · invalid token.expired [812003]" {
		t.Errorf("token.verified: class %q label %q", r.Class, r.Label)
	}
	gaps := 0
	for i, r := range d.Rows {
		if r.Gap != "" {
			gaps++
			if r.Y-d.Rows[i-1].Y != diagramRowH+diagramGapH {
				t.Errorf("gap row not spaced")
			}
		}
		if r.LabelX < 0 || (r.Anchor == "start" && r.LabelX+textWidth(r.Label) > d.Width) {
			t.Errorf("label %q runs off the diagram", r.Label)
		}
	}
	if gaps != 1 || byEvent[timeline.SetMetaData].Gap != "+839 ms" {
		t.Errorf("%d gaps, want the one before the late setMetaData", gaps)
	}

	many := make([]timeline.Event, diagramMaxRows+7)
	for i := range many {
		many[i] = timeline.Event{TMs: float64(i), Source: timeline.Browser, Event: timeline.Request}
	}
	if d := buildDiagram("d2", many); d.Truncated != 7 || len(d.Rows) != diagramMaxRows {
		t.Errorf("truncated %d, rows %d", d.Truncated, len(d.Rows))
	}
	if buildDiagram("d3", nil) != nil {
		t.Error("a diagram for no event")
	}
}

func TestMatrix(t *testing.T) {
	r := failedReport()
	// declare coverage: the first scenario exercises the timing and token
	// lifetime requirements, the others declare theirs
	r.Scenarios[0].Tags = append(r.Scenarios[0].Tags, "@R-SETMETADATA-2", "@r-token-3", "@R-FLOW-1")
	r.Scenarios[1].Tags = append(r.Scenarios[1].Tags, "@R-TAG-1")
	r.Scenarios[2].Tags = append(r.Scenarios[2].Tags, "@R-SETMETADATA-2")
	r.Findings = append(r.Findings, finding.New(finding.KitMissing, "")) // no campaign: counts for all
	(&AllowList{Entries: []AllowEntry{{Code: "campaign.blocked", Reason: "known"}}}).Apply(r)
	r.Finalize()
	v := buildHTMLView(r.forOutput(false), t.TempDir())
	if len(v.Campaigns) != 2 || v.Campaigns[0].Key != campB || v.Campaigns[1].Key != campA {
		t.Fatalf("columns %+v", v.Campaigns)
	}
	cell := map[string]string{}
	for _, row := range v.Matrix {
		for i, c := range row.Cells {
			cell[row.Req.ID+"/"+v.Campaigns[i].Key] = c.Status
		}
	}
	for key, want := range map[string]string{
		"R-SETMETADATA-2/" + campA: Failed,    // setmetadata.late
		"R-SETMETADATA-2/" + campB: "warning", // setmetadata.race
		"R-TOKEN-3/" + campB:       Failed,    // token.expired
		"R-TOKEN-3/" + campA:       Passed,    // declared, no finding
		"R-FLOW-1/" + campA:        Allowed,   // campaign.blocked, allowed
		"R-TAG-1/" + campA:         Failed,    // kit.missing, page-wide
		"R-TAG-1/" + campB:         Failed,
		"R-PII-1/" + campB:         NotReached, // only an info finding, and nobody declares R-PII-1
		"R-USERINFO-1/" + campA:    NotReached,
	} {
		if cell[key] != want {
			t.Errorf("%s = %q, want %q", key, cell[key], want)
		}
	}
	if v.Coverage == "" || len(v.ToFix) != 3 {
		t.Errorf("coverage %q, %d to fix (want setmetadata.late, token.expired, kit.missing)", v.Coverage, len(v.ToFix))
	}
}
