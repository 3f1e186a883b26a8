package steps

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/reports"
)

// conditions are what makes two page loads different: the same profile
// opened under the same conditions is observed once per run and shared by
// every scenario that asks (the scenarios then assert different things about
// the very same page load).
type conditions struct {
	profileKey string // "profile" or "demo:<slug>"
	loggedOut  bool
	throttle   *harness.Throttle
	fault      finding.Code
}

// key is the memoization key of a page load.
func (c conditions) key() string {
	k := c.profileKey
	if c.loggedOut {
		k += "|logged-out"
	}
	if c.throttle != nil {
		k += fmt.Sprintf("|throttle:%gx,%s,%g/%gkbps", c.throttle.CPURate, c.throttle.Latency, c.throttle.DownloadKbps, c.throttle.UploadKbps)
	}
	if c.fault != "" {
		k += "|fault:" + string(c.fault)
	}
	return k
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9.]+`)

// slug names the folder of the page load's screenshots.
func (c conditions) slug() string {
	s := strings.TrimPrefix(c.profileKey, "demo:")
	if c.loggedOut {
		s += "-logged-out"
	}
	if c.throttle != nil {
		s += "-throttled"
	}
	if c.fault != "" {
		s += "-fault-" + string(c.fault)
	}
	return strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(s), "-"), "-")
}

// rank orders the page loads waiting for a browser slot, the longest
// expected first (longest-processing-time first: the slots then finish
// together rather than one running the slow phone alone at the end). A
// slow phone's load takes longest (3.2 s of the demo's 2.2–2.4 s for the
// others: its network round trips); an injected fault and a logged-out
// visit end with the windows the verdict needs after the campaign's
// outcome (kit/PROTOCOL.md, "When a run ends"); a plain load ends at its
// campaigns' outcomes.
func (c conditions) rank() int {
	switch {
	case c.throttle != nil:
		return 2
	case c.fault != "" || c.loggedOut:
		return 1
	}
	return 0
}

// observation is one page load, shared by the scenarios with its conditions.
type observation struct {
	cond  conditions
	key   string
	slug  string
	done  chan struct{} // closed when res/err are set
	res   *harness.Result
	err   error
	ranBy string        // the scenario whose step started it
	took  time.Duration // wall time of harness.Run, slot wait excluded
	burst bool          // started beyond the slots, the CPUs being idle
	shots []reports.Attachment

	mu    sync.Mutex
	users []string // scenario ids that used it, in arrival order
}

func (o *observation) addUser(id string) {
	o.mu.Lock()
	o.users = append(o.users, id)
	o.mu.Unlock()
}

// observer runs page loads: at most `slots` at a time in the browser, each
// distinct set of conditions once (a concurrency-safe single flight), so
// that godog can start every scenario at once while the browser works at the
// pace the machine allows.
type observer struct {
	ctx   context.Context // the run's: a page load outlives the scenario that started it
	load  pageLoader
	slots chan struct{}
	// burst is how many page loads may run beyond the slots, each admitted
	// only while the machine's CPUs are idle (idle; see admitBurst): the
	// loads spend most of their time waiting on windows and round trips,
	// not computing. 0 = none.
	burst int
	idle  idleGauge
	q     queue
	// prepare runs on a page load's result before any scenario sees it
	// (causes, allowances); started says that a load begins. Both optional.
	prepare   func(*harness.Result)
	started   func(obs *observation, sc harness.Scenario)
	reportDir string // screenshots are written under reportDir/attachments ("" = not written)
	// harReveal writes the page loads' HARs (harness.Options.HAR) with
	// raw values; harTool names qualcert's version in them.
	harReveal bool
	harTool   string

	mu    sync.Mutex
	byKey map[string]*observation
	// elsewhere are the profile keys whose plain load (no fault, logged
	// in) another shard runs.
	elsewhere map[string]bool
}

// notePlainElsewhere records that the plain load of profileKey runs in
// another shard.
func (o *observer) notePlainElsewhere(profileKey string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.elsewhere == nil {
		o.elsewhere = map[string]bool{}
	}
	o.elsewhere[profileKey] = true
}

func (o *observer) elsewherePlain() map[string]bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := map[string]bool{}
	for k := range o.elsewhere {
		out[k] = true
	}
	return out
}

func newObserver(ctx context.Context, load pageLoader, slots int, reportDir string) *observer {
	if slots < 1 {
		slots = 1
	}
	return &observer{ctx: ctx, load: load, slots: make(chan struct{}, slots), reportDir: reportDir, byKey: map[string]*observation{}}
}

// observe returns the page load for sc under cond, running it if no
// scenario has yet; shared reports whether another scenario started it.
func (o *observer) observe(ctx context.Context, scenarioID string, cond conditions, sc harness.Scenario) (obs *observation, shared bool, err error) {
	key := cond.key()
	o.mu.Lock()
	obs, shared = o.byKey[key]
	if !shared {
		obs = &observation{cond: cond, key: key, slug: cond.slug(), done: make(chan struct{}), ranBy: sc.Name}
		o.byKey[key] = obs
	}
	o.mu.Unlock()
	obs.addUser(scenarioID)
	o.q.arrive(scenarioID)

	if !shared {
		o.run(obs, sc)
	}
	select {
	case <-obs.done:
		return obs, shared, nil
	case <-ctx.Done():
		return nil, shared, fmt.Errorf("waiting for the page load %q: %w", key, ctx.Err())
	}
}

// run performs the page load in a browser slot and publishes its result.
func (o *observer) run(obs *observation, sc harness.Scenario) {
	defer close(obs.done)
	release, err := o.acquire(obs)
	if err != nil {
		obs.err = fmt.Errorf("waiting for a browser slot: %w: %w", harness.ErrBroken, err)
		return
	}
	defer release()
	if o.started != nil {
		o.started(obs, sc)
	}
	start := time.Now()
	obs.res, obs.err = o.load(o.ctx, sc)
	obs.took = time.Since(start)
	if obs.res != nil && o.prepare != nil {
		o.prepare(obs.res)
	}
	if obs.res != nil {
		obs.shots = o.saveScreenshots(obs)
	}
}

// saveScreenshots writes the page load's screenshots once, for every
// scenario that shares it; a write failure drops the file from the report
// rather than the run.
func (o *observer) saveScreenshots(obs *observation) []reports.Attachment {
	var out []reports.Attachment
	for _, s := range obs.res.Screenshots {
		rel := filepath.ToSlash(filepath.Join("attachments", obs.slug, filepath.Base(s.Name)))
		if o.reportDir != "" {
			path := filepath.Join(o.reportDir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				continue
			}
			if err := os.WriteFile(path, s.PNG, 0o644); err != nil {
				continue
			}
		}
		out = append(out, reports.Attachment{Name: s.Name, MediaType: "image/png", Path: rel})
	}
	if obs.res.HAR != nil && o.reportDir != "" {
		// Written once the load is over: the verifier has noted every
		// token and participant value of the load (finding.NoteSecret).
		rel := filepath.ToSlash(filepath.Join("attachments", obs.slug, "page-load.har"))
		path := filepath.Join(o.reportDir, filepath.FromSlash(rel))
		if b, err := reports.MarshalHAR(obs.res.HAR, o.harTool, o.harReveal); err == nil && os.MkdirAll(filepath.Dir(path), 0o755) == nil && os.WriteFile(path, b, 0o644) == nil {
			out = append(out, reports.Attachment{Name: "page-load.har", MediaType: reports.HARMediaType, Path: rel})
		}
	}
	return out
}

// all returns every observation started during the run.
func (o *observer) all() []*observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*observation, 0, len(o.byKey))
	for _, obs := range o.byKey {
		out = append(out, obs)
	}
	return out
}
