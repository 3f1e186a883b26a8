package main

// Fleets: `qualcert run` with several profiles (--profile repeated, or a
// folder of profiles) certifies each site with steps.Run, the sites side by
// side sharing --concurrency browser slots, and writes one combined report
// (reports.Combine). --shard i/n keeps a stable slice of the page loads
// (steps.ShardOf), and `qualcert merge` joins the shards' report folders.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/reports"
	"github.com/qualcert/qualcert/steps"
)

// site is one profile of the run.
type site struct {
	id   string // from the file name: unique in the run
	path string // as given
	p    *profile.Profile
}

var siteIDUnsafe = regexp.MustCompile(`[^a-z0-9._-]+`)

// profilePaths expands the --profile arguments: a folder stands for its
// *.yaml and *.yml files, sorted by name.
func profilePaths(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("--profile %s: %w", a, err)
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("--profile %s: reading the folder: %w", a, err)
		}
		var files []string
		for _, e := range entries {
			ext := strings.ToLower(filepath.Ext(e.Name()))
			if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
				files = append(files, filepath.Join(a, e.Name()))
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("--profile %s: the folder holds no profile (*.yaml, *.yml)", a)
		}
		sort.Strings(files)
		out = append(out, files...)
	}
	return out, nil
}

// loadSites reads every profile (a bad one is a usage error naming its
// file, key and line) and names each site after its file.
func loadSites(paths []string) ([]site, error) {
	var out []site
	used := map[string]bool{}
	for _, path := range paths {
		p, err := profile.Load(path)
		if err == nil {
			err = p.ResolveEnv()
		}
		if err != nil {
			return nil, fmt.Errorf("invalid profile: %w", err)
		}
		base := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
		id := strings.Trim(siteIDUnsafe.ReplaceAllString(strings.ToLower(base), "-"), "-.")
		if id == "" {
			id = "site"
		}
		for n, try := 2, id; ; n++ {
			if !used[try] {
				id = try
				break
			}
			try = id + "-" + strconv.Itoa(n)
		}
		used[id] = true
		out = append(out, site{id: id, path: path, p: p})
	}
	return out, nil
}

// parseShard reads --shard i/n.
func parseShard(s string) (*steps.Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(strings.TrimSpace(a))
	n, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return nil, fmt.Errorf("%q: want i/n with 1 ≤ i ≤ n (1/2, 2/2)", s)
	}
	return &steps.Shard{Index: i, Count: n}, nil
}

// fleetID identifies what a run certifies: its sites (id, name, page) and
// its suite selection. Shards of one fleet share it.
func fleetID(sites []site, selection ...string) *reports.FleetRef {
	h := sha256.New()
	for _, s := range sites {
		fmt.Fprintf(h, "site\x00%s\x00%s\x00%s\n", s.id, s.p.Name, s.p.Page.URL)
	}
	for _, x := range selection {
		fmt.Fprintf(h, "sel\x00%s\n", x)
	}
	return &reports.FleetRef{ID: hex.EncodeToString(h.Sum(nil))[:16], Sites: len(sites)}
}

// markShard makes r the report of one shard: partial, never a
// certification, with what merge needs to restore the whole run.
func markShard(r *reports.Report, sh *steps.Shard, fleet *reports.FleetRef) {
	r.Shard = &reports.ShardRef{Index: sh.Index, Count: sh.Count, Fleet: fleet.ID}
	if r.Partial {
		r.Shard.BasePartialReason = r.PartialReason
	} else if r.TagFilter != "" {
		r.Shard.BasePartialReason = "filtered by --tags " + r.TagFilter
	}
	reason := fmt.Sprintf("shard %d/%d: a slice of the page loads (qualcert merge joins the shards)", sh.Index, sh.Count)
	if r.PartialReason != "" {
		reason = r.PartialReason + "; " + reason
	}
	r.Partial, r.PartialReason = true, reason
}

// prefixWriter prefixes each line written to w (shared by the sites, under
// mu) with the site's id.
type prefixWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock() // a site's scenarios end (and print) concurrently
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		_, err := fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
		if err != nil {
			return len(b), err
		}
	}
}

// runFleet certifies every site of sites with cfg (a site's profile, report
// folder, progress and shard are its own) and writes the combined report.
func runFleet(ctx context.Context, e env, cfg steps.Config, sites []site, shard *steps.Shard, fleet *reports.FleetRef,
	allow *reports.AllowList, tags, reportDir string, reveal bool, summary reports.SummaryOptions) int {
	fmt.Fprintf(e.stdout, "qualcert run: a fleet of %d sites, %d page load%s at a time\n", len(sites), cfg.Concurrency, plural(cfg.Concurrency))
	for _, s := range sites {
		fmt.Fprintf(e.stdout, "  %-20s %s (%s)\n", s.id, s.p.Name, s.p.Page.URL)
	}
	slots := make(chan struct{}, cfg.Concurrency)
	// The sites share browsers (one per harness.ShareKey: one for the
	// whole fleet unless the sites need the browser confined differently),
	// so that the fleet starts one Chromium, not one per site, and its
	// page loads do not compete with browser starts; no more sites at once
	// than page loads at once, which bounds the browsers too.
	browsers := newSharedBrowsers(cfg.Browser, sites)
	defer browsers.closeAll()
	running := make(chan struct{}, cfg.Concurrency)
	var mu sync.Mutex
	results := make([]reports.SiteResult, len(sites))
	errs := make([]error, len(sites))
	var wg sync.WaitGroup
	for i, s := range sites {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case running <- struct{}{}:
			case <-ctx.Done():
			}
			defer func() {
				select {
				case <-running:
				default:
				}
			}()
			defer browsers.done(s)
			c := cfg
			c.Profile = s.p
			c.Slots = slots
			c.Shared = browsers.get(s)
			c.ReportDir = filepath.Join(reportDir, reports.SitesDir, s.id)
			pw := &prefixWriter{mu: &mu, w: e.stdout, prefix: "[" + s.id + "] "}
			c.Progress = pw
			if shard != nil {
				sh := *shard
				sh.Site = s.id
				c.Shard = &sh
			}
			r, err := steps.Run(ctx, c)
			if err != nil {
				errs[i] = fmt.Errorf("site %s (%s): %w", s.id, s.path, err)
				return
			}
			r.TagFilter = tags
			if shard != nil {
				markShard(r, c.Shard, fleet)
			}
			if allow != nil {
				allow.Apply(r)
			}
			r.Finalize()
			results[i] = reports.SiteResult{ID: s.id, Profile: s.path, Report: r}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintf(e.stderr, "qualcert run: %v\n", err)
			return exitUsage
		}
	}
	var stale []reports.AllowEntry
	if allow != nil {
		stale = reports.FleetAllowances(results)
	}
	return writeFleet(e, "run", results, fleet, stale, reportDir, reveal, summary, shardRef(shard, fleet, results), nil)
}

// sharedBrowsers are the browsers of a fleet: one per harness.ShareKey,
// started when its first site needs it and closed when its last site is
// done.
type sharedBrowsers struct {
	mu     sync.Mutex
	byKey  map[string]*sharedBrowser
	ofSite map[string]*sharedBrowser
}

// sharedBrowser is the browser of the sites of one key.
type sharedBrowser struct {
	opt  harness.Options // confined for every site of the key
	once sync.Once
	h    *harness.Harness
	err  error
	left int // sites not yet done (guarded by sharedBrowsers.mu)
}

func newSharedBrowsers(opt harness.Options, sites []site) *sharedBrowsers {
	sb := &sharedBrowsers{byKey: map[string]*sharedBrowser{}, ofSite: map[string]*sharedBrowser{}}
	profiles := map[string][]*profile.Profile{}
	for _, s := range sites {
		k := harness.ShareKey(opt, s.p)
		if sb.byKey[k] == nil {
			sb.byKey[k] = &sharedBrowser{}
		}
		sb.byKey[k].left++
		sb.ofSite[s.id] = sb.byKey[k]
		profiles[k] = append(profiles[k], s.p)
	}
	for k, b := range sb.byKey {
		b.opt = harness.ConfineAll(opt, profiles[k]...)
	}
	return sb
}

// get is steps.Config.Shared for site s.
func (sb *sharedBrowsers) get(s site) func(context.Context) (*harness.Harness, error) {
	b := sb.ofSite[s.id]
	return func(ctx context.Context) (*harness.Harness, error) {
		b.once.Do(func() { b.h, b.err = startShared(ctx, b.opt) })
		return b.h, b.err
	}
}

// startShared starts a browser that several sites depend on: a launch that
// ran out of time (a machine busy with something else) is tried once more
// before all of them are called broken.
func startShared(ctx context.Context, opt harness.Options) (*harness.Harness, error) {
	h, err := harness.Start(ctx, opt)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		h, err = harness.Start(ctx, opt)
	}
	return h, err
}

// done notes that site s no longer needs its browser: the last site of a
// browser closes it (Close waits for its pages to be disposed of).
func (sb *sharedBrowsers) done(s site) {
	sb.mu.Lock()
	b := sb.ofSite[s.id]
	b.left--
	last := b.left == 0
	sb.mu.Unlock()
	if last {
		b.close()
	}
}

func (b *sharedBrowser) close() {
	b.once.Do(func() { b.err = errors.New("closed") }) // never started: never will be
	if b.h != nil {
		_ = b.h.Close()
	}
}

// closeAll closes every browser (idempotent; a run that returns early).
func (sb *sharedBrowsers) closeAll() {
	for _, b := range sb.byKey {
		b.close()
	}
}

func shardRef(sh *steps.Shard, fleet *reports.FleetRef, results []reports.SiteResult) *reports.ShardRef {
	if sh == nil {
		return nil
	}
	ref := &reports.ShardRef{Index: sh.Index, Count: sh.Count, Fleet: fleet.ID}
	var base []string
	for _, r := range results {
		if r.Report.Shard != nil && r.Report.Shard.BasePartialReason != "" {
			base = append(base, r.ID+": "+r.Report.Shard.BasePartialReason)
		}
	}
	ref.BasePartialReason = strings.Join(base, "; ")
	return ref
}

// writeFleet writes each site's report.json and the combined reports, prints
// the summary and returns the exit code of the fleet's verdict.
func writeFleet(e env, cmd string, results []reports.SiteResult, fleet *reports.FleetRef, stale []reports.AllowEntry,
	reportDir string, reveal bool, summary reports.SummaryOptions, shard *reports.ShardRef, merged *reports.MergeRef) int {
	for _, r := range results {
		if err := reports.WriteJSONFile(filepath.Join(reportDir, reports.SitesDir, r.ID), r.Report, reports.WriteOptions{Reveal: reveal}); err != nil {
			fmt.Fprintf(e.stderr, "qualcert %s: writing the report of site %s: %v\n", cmd, r.ID, err)
			return exitBroken
		}
	}
	combined := reports.Combine(fleet, results, stale)
	combined.Shard, combined.Merged = shard, merged
	var wall int64
	for _, r := range results {
		wall = max(wall, r.Report.StartedAt.Add(msDuration(r.Report.DurationMs)).Sub(combined.StartedAt).Milliseconds())
	}
	combined.DurationMs = wall
	htmlPath := filepath.Join(reportDir, reports.HTMLFile)
	if written, err := reports.WriteAll(reportDir, combined, reports.WriteOptions{Reveal: reveal}); err != nil {
		fmt.Fprintf(e.stderr, "qualcert %s: writing the reports: %v\n", cmd, err)
		if len(written) == 0 {
			return exitBroken
		}
		htmlPath = written[0]
	}
	fmt.Fprintln(e.stdout)
	w := bufio.NewWriter(e.stdout)
	fmt.Fprintf(w, "Sites (%d):\n", len(results))
	for _, r := range results {
		s := r.Report.Summary
		line := fmt.Sprintf("  %-8s %-20s %d passed, %d failed, %d skipped, %d broken", r.Report.Verdict, r.ID, s.Passed, s.Failed, s.Skipped, s.Broken)
		if s.PageLoadsFailed > 0 {
			line += fmt.Sprintf(", %d page load%s failed", s.PageLoadsFailed, plural(s.PageLoadsFailed))
		}
		if r.Report.Partial {
			line += " (partial)"
		}
		fmt.Fprintln(w, line)
	}
	w.Flush()
	reports.WriteSummaryWith(e.stdout, combined, htmlPath, summary)
	return exitCode(combined.Verdict)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }
