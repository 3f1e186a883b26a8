package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// The page a screenshot shows is more than its top document: every iframe
// of it paints into the same picture, whether its document comes from the
// page's origin, from another origin in the page's renderer, or from
// another site in a renderer of its own (an out-of-process iframe, where
// the browser isolates sites). What the harness does to "the page" before
// its screenshot (masking the participant's values) must therefore reach
// every frame, and a frame it could not reach must be said.
//
// EvalFrames walks the frames as CDP sees them: the tab's frame tree (the
// top frame and the iframes in its renderer, whatever their origin), then
// each out-of-process iframe's own target and its own frame tree (the
// frames nested in it, in its renderer). In each frame the expression runs
// in a fresh context of an isolated world: isolated worlds share the
// frame's DOM but none of its scripts, so neither the same-origin policy
// (the harness is not a script of the page) nor the page's own overrides
// of DOM methods stand in the way.

// FrameEval is the value of an expression in one frame of the page, or
// why there is none.
type FrameEval struct {
	Frame        proto.PageFrameID
	Origin       string // the frame document's security origin (never its full URL: it may carry the participant)
	OutOfProcess bool   // the frame is, or is nested in, an out-of-process iframe
	Value        json.RawMessage
	Err          error
}

// EvalFrames evaluates expr (by value) in every frame of the page, each in
// a fresh context of the isolated world named world (see above). An
// out-of-process iframe whose frame tree cannot be read counts as one
// frame with its error. A frame that went away meanwhile is reported with
// its error too: the caller says what it could not reach.
func (s *Session) EvalFrames(ctx context.Context, world, expr string) []FrameEval {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return []FrameEval{{Err: errors.New("evaluating in the page's frames: the session is closed")}}
	}
	oopifs := make([]*rod.Page, 0, len(s.oopifs))
	remote := map[proto.PageFrameID]bool{}
	for _, p := range s.oopifs {
		oopifs = append(oopifs, p)
		remote[proto.PageFrameID(p.TargetID)] = true
	}
	s.mu.Unlock()

	out := s.evalTarget(ctx, s.page, world, expr, false, remote)
	for _, p := range oopifs {
		out = append(out, s.evalTarget(ctx, p, world, expr, true, nil)...)
	}
	return out
}

// evalTarget evaluates expr in every frame of target p's frame tree,
// leaving out the frames of skip (out-of-process iframes, reached through
// their own target).
func (s *Session) evalTarget(ctx context.Context, p *rod.Page, world, expr string, oop bool, skip map[proto.PageFrameID]bool) []FrameEval {
	var tree proto.PageGetFrameTreeResult
	if err := callOn(ctx, p, proto.PageGetFrameTree{}, &tree); err != nil || tree.FrameTree == nil {
		if err == nil {
			err = errors.New("no frame tree")
		}
		return []FrameEval{{Frame: proto.PageFrameID(p.TargetID), OutOfProcess: oop, Err: fmt.Errorf("reading the frame tree: %w", err)}}
	}
	var out []FrameEval
	var walk func(t *proto.PageFrameTree)
	walk = func(t *proto.PageFrameTree) {
		if t == nil || t.Frame == nil || skip[t.Frame.ID] {
			return
		}
		out = append(out, s.evalFrame(ctx, p, t.Frame, world, expr, oop))
		for _, c := range t.ChildFrames {
			walk(c)
		}
	}
	walk(tree.FrameTree)
	return out
}

// evalFrame evaluates expr in frame f of target p.
func (s *Session) evalFrame(ctx context.Context, p *rod.Page, f *proto.PageFrame, world, expr string, oop bool) FrameEval {
	r := FrameEval{Frame: f.ID, Origin: f.SecurityOrigin, OutOfProcess: oop}
	var w proto.PageCreateIsolatedWorldResult
	if err := callOn(ctx, p, proto.PageCreateIsolatedWorld{FrameID: f.ID, WorldName: world}, &w); err != nil {
		r.Err = fmt.Errorf("creating an isolated world: %w", err)
		return r
	}
	var res proto.RuntimeEvaluateResult
	if err := callOn(ctx, p, proto.RuntimeEvaluate{Expression: expr, ContextID: w.ExecutionContextID, ReturnByValue: true}, &res); err != nil {
		r.Err = fmt.Errorf("evaluating: %w", err)
		return r
	}
	if res.ExceptionDetails != nil {
		r.Err = fmt.Errorf("evaluating: %s", res.ExceptionDetails.Text)
		return r
	}
	if res.Result != nil {
		r.Value = json.RawMessage(res.Result.Value.JSON("", ""))
	}
	return r
}
