package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

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
// a fresh context of the isolated world evidenceWorld (see above). An
// out-of-process iframe whose frame tree cannot be read counts as one
// frame with its error. A frame that went away meanwhile is reported with
// its error too: the caller says what it could not reach.
func (s *Session) EvalFrames(ctx context.Context, expr string) []FrameEval {
	targets, remote, err := s.targets()
	if err != nil {
		return []FrameEval{{Err: fmt.Errorf("evaluating in the page's frames: %w", err)}}
	}
	// One renderer per target: each is walked on its own, so that a busy
	// out-of-process iframe does not hold the other frames up.
	per := make([][]FrameEval, len(targets))
	var wg sync.WaitGroup
	for i, p := range targets {
		wg.Go(func() { per[i] = s.evalTarget(ctx, p, expr, i > 0, remote) })
	}
	wg.Wait()
	var out []FrameEval
	for _, fs := range per {
		out = append(out, fs...)
	}
	return out
}

// targets returns the session's targets that hold frames, the tab first,
// then its out-of-process iframes, and the frame ids of those iframes
// (each one's frame is its target's id).
func (s *Session) targets() ([]*rod.Page, map[proto.PageFrameID]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errors.New("the session is closed")
	}
	targets := make([]*rod.Page, 0, 1+len(s.oopifs))
	targets = append(targets, s.page)
	remote := make(map[proto.PageFrameID]bool, len(s.oopifs))
	for _, p := range s.oopifs {
		targets = append(targets, p)
		remote[proto.PageFrameID(p.TargetID)] = true
	}
	return targets, remote, nil
}

// localFrames returns the frames of target p's frame tree that its own
// renderer holds: p's own frame and its descendants, less the
// out-of-process iframes of remote (reached through their own targets).
func localFrames(ctx context.Context, p *rod.Page, remote map[proto.PageFrameID]bool) ([]*proto.PageFrame, error) {
	var tree proto.PageGetFrameTreeResult
	if err := callOn(ctx, p, proto.PageGetFrameTree{}, &tree); err != nil {
		return nil, fmt.Errorf("reading the frame tree: %w", err)
	}
	if tree.FrameTree == nil {
		return nil, errors.New("reading the frame tree: no frame tree")
	}
	var out []*proto.PageFrame
	var walk func(t *proto.PageFrameTree)
	walk = func(t *proto.PageFrameTree) {
		if t == nil || t.Frame == nil || (remote[t.Frame.ID] && t.Frame.ID != proto.PageFrameID(p.TargetID)) {
			return
		}
		out = append(out, t.Frame)
		for _, c := range t.ChildFrames {
			walk(c)
		}
	}
	walk(tree.FrameTree)
	return out, nil
}

// evalInWorld evaluates expr in a fresh context of the isolated world
// named world in frame of target p (by value, or as a remote object); an
// exception thrown is an error.
func evalInWorld(ctx context.Context, p *rod.Page, frame proto.PageFrameID, world, expr string, byValue bool) (*proto.RuntimeEvaluateResult, error) {
	var w proto.PageCreateIsolatedWorldResult
	if err := callOn(ctx, p, proto.PageCreateIsolatedWorld{FrameID: frame, WorldName: world}, &w); err != nil {
		return nil, fmt.Errorf("creating an isolated world: %w", err)
	}
	var res proto.RuntimeEvaluateResult
	if err := callOn(ctx, p, proto.RuntimeEvaluate{Expression: expr, ContextID: w.ExecutionContextID, ReturnByValue: byValue}, &res); err != nil {
		return nil, fmt.Errorf("evaluating: %w", err)
	}
	if res.ExceptionDetails != nil {
		return nil, fmt.Errorf("evaluating: %s", res.ExceptionDetails.Text)
	}
	return &res, nil
}

// evalTarget evaluates expr in every frame target p's renderer holds.
func (s *Session) evalTarget(ctx context.Context, p *rod.Page, expr string, oop bool, remote map[proto.PageFrameID]bool) []FrameEval {
	frames, err := localFrames(ctx, p, remote)
	if err != nil {
		return []FrameEval{{Frame: proto.PageFrameID(p.TargetID), OutOfProcess: oop, Err: err}}
	}
	out := make([]FrameEval, 0, len(frames))
	for _, f := range frames {
		r := FrameEval{Frame: f.ID, Origin: f.SecurityOrigin, OutOfProcess: oop}
		res, err := evalInWorld(ctx, p, f.ID, evidenceWorld, expr, true)
		switch {
		case err != nil:
			r.Err = err
		case res.Result != nil:
			r.Value = json.RawMessage(res.Result.Value.JSON("", ""))
		}
		out = append(out, r)
	}
	return out
}

// A campaign iframe the tag created inside a widget iframe is not in the
// top document, where Evidence looks for the elements to capture first.
// frameBox finds it in the page's frames (as EvalFrames walks them),
// scrolls it into view (scrollIntoView scrolls the frames that hold it
// too) and asks CDP for its border box: DOM.getBoxModel answers in the
// coordinates of the viewport of the frame's local root, the tab's for a
// frame in the page's renderer, the iframe's own for an out-of-process
// one, which is then offset by its owner element's content box in the
// tab (DOM.getFrameOwner). An out-of-process iframe whose owner is itself
// out of process (nested twice) is not boxed: said so.

// findInFrame scrolls the element of sel into view in each frame and
// returns it, by object id, with its frame's target: the first found.
const findInFrame = `(function (sel) {
  var e = document.querySelector(sel);
  if (e) e.scrollIntoView({block: 'nearest'});
  return e;
})(%s)`

// evidenceWorld is the isolated world EvalFrames and frameBox work in:
// it shares each frame's DOM, not the page's scripts.
const evidenceWorld = "qualcert-evidence"

// errNotInFrames: no frame of the page holds the element.
var errNotInFrames = errors.New("no such visible element in the page or any of its frames")

// frameBox returns the box, in top document coordinates, of the element
// of sel inside an iframe of the page (scrolled into view), the top
// viewport as then left, and the origin of the frame holding it.
func (s *Session) frameBox(ctx context.Context, sel string) (*box, box, string, error) {
	arg, _ := json.Marshal(sel)
	expr := fmt.Sprintf(findInFrame, arg)
	targets, remote, err := s.targets()
	if err != nil {
		return nil, box{}, "", err
	}
	for _, p := range targets {
		frames, err := localFrames(ctx, p, remote)
		if err != nil {
			continue // an iframe gone meanwhile; Evidence says when nothing is found
		}
		for _, f := range frames {
			if p == s.page && f.ParentID == "" {
				continue // the top document was searched already
			}
			res, err := evalInWorld(ctx, p, f.ID, evidenceWorld, expr, false)
			if err != nil || res.Result == nil || res.Result.ObjectID == "" {
				continue
			}
			b, view, err := s.boxIn(ctx, p, res.Result.ObjectID)
			if err != nil {
				return nil, box{}, f.SecurityOrigin, fmt.Errorf("inside an iframe of %s: %w", f.SecurityOrigin, err)
			}
			return b, view, f.SecurityOrigin, nil
		}
	}
	return nil, box{}, "", errNotInFrames
}

// boxIn returns the border box of the element obj of target p in top
// document coordinates, and the top viewport.
func (s *Session) boxIn(ctx context.Context, p *rod.Page, obj proto.RuntimeRemoteObjectID) (*box, box, error) {
	var m proto.DOMGetBoxModelResult
	if err := callOn(ctx, p, proto.DOMGetBoxModel{ObjectID: obj}, &m); err != nil || m.Model == nil {
		if err == nil {
			err = errors.New("no box model")
		}
		return nil, box{}, fmt.Errorf("reading its box: %w", err)
	}
	b := quadBox(m.Model.Border)
	if p != s.page { // an out-of-process iframe: offset by its owner's content box in the tab
		var owner proto.DOMGetFrameOwnerResult
		if err := callOn(ctx, s.page, proto.DOMGetFrameOwner{FrameID: proto.PageFrameID(p.TargetID)}, &owner); err != nil {
			return nil, box{}, fmt.Errorf("finding its out-of-process iframe in the top page (an iframe nested out of process twice is not boxed): %w", err)
		}
		var om proto.DOMGetBoxModelResult
		if err := callOn(ctx, s.page, proto.DOMGetBoxModel{BackendNodeID: owner.BackendNodeID}, &om); err != nil || om.Model == nil {
			if err == nil {
				err = errors.New("no box model")
			}
			return nil, box{}, fmt.Errorf("reading its out-of-process iframe's box: %w", err)
		}
		c := quadBox(om.Model.Content)
		b.X += c.X
		b.Y += c.Y
	}
	raw, err := s.Eval(ctx, `(function () { var v = window.visualViewport; return {x: window.scrollX, y: window.scrollY, w: v ? v.width : window.innerWidth, h: v ? v.height : window.innerHeight}; })()`)
	if err != nil {
		return nil, box{}, fmt.Errorf("reading the viewport: %w", err)
	}
	var view box
	if err := json.Unmarshal(raw, &view); err != nil {
		return nil, box{}, fmt.Errorf("reading the viewport: %w", err)
	}
	b.X += view.X
	b.Y += view.Y
	return &b, view, nil
}

// quadBox is the bounding box of quad q (x1,y1 … x4,y4).
func quadBox(q proto.DOMQuad) box {
	if len(q) < 8 {
		return box{}
	}
	x0, y0, x1, y1 := q[0], q[1], q[0], q[1]
	for i := 2; i+1 < len(q); i += 2 {
		x0, x1 = min(x0, q[i]), max(x1, q[i])
		y0, y1 = min(y0, q[i+1]), max(y1, q[i+1])
	}
	return box{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}
}
