package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// Events reach a session late on a loaded machine: the page's renderer
// calls the recorder's binding when something happens (stamped then, by
// the page's clock), but Chromium relays the call to the DevTools
// connection, go-rod reads it, and the session's queue hands it to its
// handler, each a step that a busy machine can delay by seconds. A run
// that decides "nothing more is coming" on the timeline as delivered can
// therefore decide on a past that is not complete yet (under make test's
// load, a campaign iframe created at 3.1 s reached the recorder after the
// run had ended at 4.6 s).
//
// Sync closes that gap: it makes the top frame call the same binding with
// a marker of its own, from a fresh context of the recorder's isolated
// world, and waits until the session's handler has seen the marker. The
// renderer sends a target's binding calls over one DevTools session, in
// order, and the session's queue is first in, first out: once the marker
// is handled, every binding call the top frame made before it has been
// handled too. (A marker is not the page's to forge: the binding exists
// only in the isolated world.)
//
// An out-of-process iframe (a widget of another site, where the browser
// isolates sites) is a renderer of its own, whose binding calls travel
// over its own DevTools session, in no order with the top frame's: Sync
// sends a marker through each such iframe too, and waits for every one.
// An iframe that went away meanwhile is not waited for.

// syncPrefix starts the session's own binding payloads (Sync); the
// recorder's payloads are JSON objects, so none starts with it.
const syncPrefix = "\x00qualcert-sync:"

// Sync waits until every binding call the top frame and each
// out-of-process iframe made before it was handled (see above), or ctx
// ends. It needs a binding in an isolated world (SessionConfig.Binding and
// World). A page whose main thread never yields (a busy loop) keeps Sync
// waiting until ctx ends: callers bound it.
func (s *Session) Sync(ctx context.Context) error {
	if s.cfg.Binding == "" || s.cfg.World == "" {
		return errors.New("syncing with the page: the session has no binding in an isolated world")
	}
	frames, _, err := s.targets()
	if err != nil {
		return fmt.Errorf("syncing with the page: %w", err)
	}
	errs := make([]error, len(frames))
	var wg sync.WaitGroup
	for i, p := range frames {
		wg.Go(func() {
			err := s.syncFrame(ctx, p)
			if err != nil && i > 0 && s.gone(p) {
				err = nil // the iframe went away: nothing more can come from it
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// gone reports whether the out-of-process iframe p has detached.
func (s *Session) gone(p *rod.Page) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.oopifs[p.SessionID]
	return !ok
}

// syncFrame sends one marker through the binding of target p's frame and
// waits until the session's handler has seen it.
func (s *Session) syncFrame(ctx context.Context, p *rod.Page) error {
	s.mu.Lock()
	s.syncSeq++
	n := s.syncSeq
	seen := make(chan struct{})
	s.syncWait[n] = seen
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.syncWait, n)
		s.mu.Unlock()
	}()

	// A fresh context of the recorder's world in the target's own frame
	// (its id is the target's): the recorder's own contexts are not
	// tracked, and a new one of the same name has the binding too.
	payload, err := json.Marshal(syncPrefix + strconv.FormatUint(n, 10))
	if err != nil {
		return fmt.Errorf("syncing with the page: %w", err)
	}
	if _, err := evalInWorld(ctx, p, proto.PageFrameID(p.TargetID), s.cfg.World, s.cfg.Binding+"("+string(payload)+")", false); err != nil {
		return fmt.Errorf("syncing with the page: calling the binding: %w", err)
	}
	select {
	case <-seen:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("syncing with the page: waiting for the marker: %w", ctx.Err())
	case <-s.ctx.Done():
		return errors.New("syncing with the page: the session closed")
	}
}

// callOn makes one CDP call on target p (the tab, or an attached iframe:
// a page of go-rod's PageFromSession, whose Context cannot be used) and
// decodes its result into res.
func callOn(ctx context.Context, p *rod.Page, req proto.Request, res any) error {
	raw, err := p.Call(ctx, string(p.SessionID), req.ProtoReq(), req)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, res)
}

// synced notes a Sync marker handled: the wait for that marker is done.
// (Markers of one frame are handled in order, but those of different
// frames, in different renderers, are not: only the marker's own wait
// ends.)
func (s *Session) synced(payload string) {
	n, err := strconv.ParseUint(payload[len(syncPrefix):], 10, 64)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.syncWait[n]; ok {
		close(ch)
		delete(s.syncWait, n)
	}
}
