package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/chromedp/cdproto/har"

	"github.com/qualcert/qualcert/features"
	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/browser"
	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/reports"
	"github.com/qualcert/qualcert/steps"
)

// demoGoodVariant is the demo page certified when no --profile is given.
const demoGoodVariant = "jws-inline"

// defaultChromium is Debian's Chromium, used when no browser flag is given
// and it is installed (go-rod never downloads a browser).
const defaultChromium = "/usr/bin/chromium"

const runUsage = `Usage: qualcert run [flags]

Certifies a publisher page that embeds Qualifio campaigns and hands them the
participant's identity with _qual_async.push(['setMetaData', 'JWT', token, divId]).
It runs the Gherkin certification suite in headless Chromium, with the
reference Qualifio kit and campaign in place of the real ones, and writes
report.json, report.html, junit.xml, cucumber.json and screenshots.

With no --profile it certifies the embedded demo publisher's good variant
(jws-inline), served on 127.0.0.1: a full run with no set-up.

Several profiles (--profile repeated, or a folder of them) are a fleet: one
run, one combined report with a verdict per site (report.json sites[]) and
overall; each site's scenarios are named after it ([site] Feature) in every
report, and the exit code is the worst site's. --shard i/n runs a stable slice
of the page loads, so that CI jobs can split a run; qualcert merge joins their
report folders. The sites share one browser (one per set of campaign hosts
to confine), each page load in an incognito context of its own.

--concurrency N bounds the page loads at a time of the whole run; in a
Chromium qualcert launches, to at most the machine's cores (at least 2), so
that no page times out for the load qualcert itself puts on the machine.
There, --burst lets a few more start while the CPUs are idle (a page load
mostly waits: round trips, the windows after the campaigns' outcomes); on a
busy machine none does. The longest page loads (the slow phone) start first.

Flags:
`

const runExitCodes = `
Exit codes: 0 passed (warnings allowed), 1 failed, 2 usage or invalid profile,
3 broken (browser could not start, page unreachable: no verdict; also when
interrupted by Ctrl-C or SIGTERM before the verdict: env.interrupted, with
Chromium and its temporary profile removed). A fleet exits with its worst
site's: 3 if any site is broken, else 1 if any failed, else 0.
`

// cmdRun is `qualcert run` (CONTRACT §1).
func cmdRun(ctx context.Context, e env, args []string) int {
	fl := newFlags("run")
	var (
		profileArgs = fl.StringArray("profile", nil, "publisher profile `FILE` (YAML or JSON), or a folder of profiles (*.yaml, *.yml); repeat it to certify a fleet of sites in one run, one combined report; none: the embedded demo")
		shardArg    = fl.String("shard", "", "run only shard `i/n` of the page loads (a stable slice; the shards of one run partition them): a partial report, joined by qualcert merge")
		reportDir   = fl.String("report-dir", "./qualcert-report", "`DIR` to write the reports into")
		tags        = fl.String("tags", "", "run only the scenarios whose tags match `EXPR`, a Cucumber tag expression (\"not @throttled\", \"@jws and not (@expired-token or @missing-token)\"; godog's \"@jws && ~@throttled\" also works)")
		featuresDir = fl.String("features", "", "add the feature files of `DIR` (your own scenarios, with the steps qualcert steps lists) to the built-in suite")
		ownOnly     = fl.Bool("features-only", false, "run only the --features DIR, not the built-in suite")
		allowPath   = fl.String("allow", "", "expected-deviations `FILE`: listed findings do not fail the run")
		concurrency = fl.Int("concurrency", 2, "page loads at a time (`N`)")
		burst       = fl.Int("burst", 3, "up to `N` more page loads beyond --concurrency, each started only while the machine's CPUs are idle (a local Chromium, one site; 0: none, also the default when --concurrency is given)")
		browserBin  = fl.String("browser-bin", "", "Chromium binary `PATH` (default "+defaultChromium+" when present, else found on PATH)")
		browserURL  = fl.String("browser-url", "", "connect to a running Chromium's DevTools `URL` (ws://… or http://host:port) instead of launching one")
		perLoad     = fl.Bool("browser-per-load", false, "open one --browser-url connection per page load (endpoints that start a browser per connection, such as browserless; detected when not given)")
		gridURL     = fl.String("grid", "", "run each page load in its own session on the Selenium Grid 4 at `URL` (http://host:4444); --concurrency spreads them over its nodes")
		gridNoSbx   = fl.Bool("grid-no-sandbox", false, "start the grid nodes' Chromium without its sandbox (nodes that run it as root)")
		liveKit     = fl.Bool("live-kit", false, "observe mode: use the real Qualifio kit (needs a network), do not intercept")
		reveal      = fl.Bool("reveal", false, "show raw tokens and participant values in reports (they are redacted by default)")
		harFlag     = fl.Bool("har", false, "write one HAR 1.2 file per page load (attachments/<load>/page-load.har, linked from report.html): the requests the page made, with their bodies, redacted like every report (evidence: a redacted HAR cannot be replayed; with --reveal it holds raw tokens and participant values)")
		replayPath  = fl.String("replay", "", "certify the page captured in the HAR `FILE` offline (qualcert run --har --reveal, or the browser's \"Save all as HAR with content\"), with --profile: every request of the page is answered from the capture (env.replay_missing notes those it lacks), the Qualifio side emulated as usual, the tokens judged as of the capture's page start unless --at; user-info calls use the profile's webservice when reachable, else userinfo.not_checked and the run is partial; a HAR redacted by qualcert is refused")
		atFlag      = fl.String("at", "", "judge the time claims (exp, nbf, iat) of the tokens the page hands over as of `TIME` instead of now: RFC 3339 (2026-11-24T10:00:00Z) or Unix seconds; the reports say \"judged as of\"")
		colorMode   = fl.String("color", "auto", "colour the terminal summary: auto, always (CI logs that render colour; also FORCE_COLOR=1) or never")
	)
	if code, done := parseFlags(e, fl, "run", args, func(w io.Writer) {
		fmt.Fprint(w, runUsage)
		printFlags(w, fl)
		fmt.Fprint(w, runExitCodes)
	}); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "qualcert run: "+format+"\n", a...)
		return exitUsage
	}
	switch {
	case fl.NArg() > 0:
		return usageErr("unexpected argument %q (run takes flags only; see qualcert help run)", fl.Arg(0))
	case *browserBin != "" && *browserURL != "":
		return usageErr("give --browser-bin or --browser-url, not both")
	case *gridURL != "" && *browserURL != "":
		return usageErr("give --grid or --browser-url, not both")
	case *perLoad && *browserURL == "":
		return usageErr("--browser-per-load needs --browser-url")
	case *gridNoSbx && *gridURL == "":
		return usageErr("--grid-no-sandbox needs --grid")
	case *concurrency < 1:
		return usageErr("--concurrency must be at least 1, not %d", *concurrency)
	case *burst < 0:
		return usageErr("--burst must be at least 0, not %d", *burst)
	case *reportDir == "":
		return usageErr("--report-dir must not be empty")
	}
	var at time.Time
	if *atFlag != "" {
		t, issued, err := parseAt(*atFlag)
		switch {
		case err != nil:
			return usageErr("--at: %v", err)
		case issued:
			return usageErr("--at: iat is per token (qualcert verify --at iat); give run an instant: RFC 3339 or Unix seconds")
		}
		at = t.UTC()
	}
	var replayHAR *har.HAR
	if *replayPath != "" {
		if len(*profileArgs) != 1 {
			return usageErr("--replay needs --profile FILE: the profile of the page captured (one)")
		}
		h, start, err := loadReplay(*replayPath)
		if err != nil {
			return usageErr("--replay: %v", err)
		}
		replayHAR = h
		if at.IsZero() {
			at = start
		}
	}
	if *browserURL != "" {
		if _, err := browser.ParseEndpoint(*browserURL); err != nil {
			return usageErr("--browser-url: %v", err)
		}
	}
	if *gridURL != "" {
		if _, err := browser.ParseGrid(*gridURL); err != nil {
			return usageErr("--grid: %v", err)
		}
	}
	var shard *steps.Shard
	if *shardArg != "" {
		sh, err := parseShard(*shardArg)
		if err != nil {
			return usageErr("--shard %v", err)
		}
		shard = sh
	}
	if err := steps.CheckTags(*tags); err != nil {
		return usageErr("--tags: %v", err)
	}
	stdoutFile, _ := e.stdout.(*os.File)
	color, err := reports.ColorMode(*colorMode, stdoutFile)
	if err != nil {
		return usageErr("%v", err)
	}

	var allow *reports.AllowList
	if *allowPath != "" {
		a, err := reports.LoadAllow(*allowPath)
		if err != nil {
			return usageErr("reading the expected-deviations file: %v", err)
		}
		allow = a
	}

	cfg := steps.Config{
		Tags:        *tags,
		Concurrency: *concurrency,
		Browser: harness.Options{BrowserBin: *browserBin, BrowserURL: *browserURL, PerLoad: *perLoad,
			Grid: *gridURL, GridNoSandbox: *gridNoSbx, LiveKit: *liveKit, Reveal: *reveal, HAR: *harFlag, Replay: replayHAR},
		ReportDir:   *reportDir,
		Progress:    e.stdout,
		Allow:       allow,
		ToolVersion: Version,
		At:          at,
	}
	if cfg.Browser.BrowserBin == "" && cfg.Browser.BrowserURL == "" && cfg.Browser.Grid == "" {
		if _, err := os.Stat(defaultChromium); err == nil {
			cfg.Browser.BrowserBin = defaultChromium
		}
	}
	cfg.Burst = localBurst(cfg.Browser, *burst, fl.Changed("burst"), fl.Changed("concurrency"))
	if n := localConcurrency(cfg.Browser, *concurrency); n < *concurrency {
		fmt.Fprintf(e.stdout, "qualcert run: --concurrency %d: %d page loads at a time in the local Chromium, as many as this machine has cores (more would compete for them, and a page slowed by its siblings could time out: a verdict of qualcert's making); a --grid or --browser-url spreads more\n", *concurrency, n)
		cfg.Concurrency = n
	}
	if *ownOnly && *featuresDir == "" {
		return usageErr("--features-only needs --features DIR")
	}
	if *featuresDir != "" {
		st, err := os.Stat(*featuresDir)
		if err != nil {
			return usageErr("reading --features: %v", err)
		}
		if !st.IsDir() {
			return usageErr("--features %s is not a folder of .feature files", *featuresDir)
		}
		own := os.DirFS(*featuresDir)
		if *ownOnly {
			cfg.Features = own
		} else if cfg.Features, cfg.Paths, err = features.WithOwn(ownMount(*featuresDir), own); err != nil {
			return usageErr("--features: %v", err)
		}
	}

	var site0 site
	if len(*profileArgs) > 0 {
		paths, err := profilePaths(*profileArgs)
		if err != nil {
			return usageErr("%v", err)
		}
		sites, err := loadSites(paths)
		if err != nil {
			return usageErr("%v", err)
		}
		fleet := fleetID(sites, *tags, *featuresDir, fmt.Sprint(*ownOnly))
		if len(sites) > 1 {
			if err := os.MkdirAll(*reportDir, 0o755); err != nil {
				return usageErr("creating the report folder: %v", err)
			}
			return runFleet(ctx, e, cfg, sites, shard, fleet, allow, *tags, *reportDir, *reveal,
				reports.SummaryOptions{Color: color, Reveal: *reveal})
		}
		site0 = sites[0]
		cfg.Profile = site0.p
	} else {
		fmt.Fprintln(e.stdout, "qualcert run: no --profile given: starting the embedded demo publisher…")
		srv, err := demo.Start(ctx, "127.0.0.1:0")
		if err != nil {
			fmt.Fprintf(e.stderr, "qualcert run: starting the embedded demo publisher: %v\n", err)
			return exitBroken
		}
		defer srv.Close()
		p, err := srv.Profile(demoGoodVariant)
		if err != nil {
			fmt.Fprintf(e.stderr, "qualcert run: the embedded demo has no %s profile: %v\n", demoGoodVariant, err)
			return exitBroken
		}
		cfg.Profile = p
		site0 = site{id: demoGoodVariant, path: "", p: p}
		fmt.Fprintf(e.stdout, "qualcert run: no --profile given: certifying the embedded demo publisher's good variant %q at %s\n", demoGoodVariant, p.Page.URL)
	}

	if err := os.MkdirAll(*reportDir, 0o755); err != nil {
		return usageErr("creating the report folder: %v", err)
	}
	fmt.Fprintf(e.stdout, "qualcert run: %s (%s)\n", cfg.Profile.Name, cfg.Profile.Page.URL)
	if replayHAR != nil {
		fmt.Fprintf(e.stdout, "qualcert run: a replay of %s: every request of the page is answered from it, offline\n", replayRef(*replayPath, replayHAR, at))
	}
	if !at.IsZero() {
		why := "--at"
		if *atFlag == "" {
			why = "the capture's page start"
		}
		fmt.Fprintf(e.stdout, "qualcert run: tokens judged as of %s (%s), not now\n", at.Format(time.RFC3339), why)
	}

	if shard != nil {
		sh := *shard
		sh.Site = site0.id
		cfg.Shard = &sh
	}
	r, err := steps.Run(ctx, cfg)
	if err != nil {
		return usageErr("%v", err)
	}
	r.TagFilter = *tags
	if replayHAR != nil {
		r.Replay = replayRef(*replayPath, replayHAR, at)
		for _, f := range r.Findings {
			if f.Code == finding.UserInfoNotChecked && !r.Partial {
				// the requirement was not exercised: no certification of it
				r.Partial, r.PartialReason = true, "a replay with the user-info webservice out of reach: userinfo.not_checked"
			}
		}
	}
	if shard != nil {
		// the embedded demo is served on a port of its own each run: its
		// fleet is named by its variant, not its URL
		fleetSite := site0
		if site0.path == "" {
			fleetSite.p = &profile.Profile{Name: site0.p.Name, Page: profile.Page{URL: "demo:" + demoGoodVariant}}
		}
		markShard(r, cfg.Shard, fleetID([]site{fleetSite}, *tags, *featuresDir, fmt.Sprint(*ownOnly)))
	}
	if allow != nil {
		allow.Apply(r)
	}
	r.Finalize()

	// WriteAll writes report.json first: when a later writer fails, the
	// machine-readable report (redacted like the others) is already there.
	htmlPath := filepath.Join(*reportDir, reports.HTMLFile)
	fmt.Fprintf(e.stdout, "  writing the reports into %s…\n", *reportDir)
	if written, err := reports.WriteAll(*reportDir, r, reports.WriteOptions{Reveal: *reveal}); err != nil {
		fmt.Fprintf(e.stderr, "qualcert run: writing the reports: %v\n", err)
		if len(written) == 0 {
			return exitBroken
		}
		htmlPath = written[0]
	}
	fmt.Fprintln(e.stdout)
	reports.WriteSummaryWith(e.stdout, r, htmlPath, reports.SummaryOptions{Color: color, Reveal: *reveal})
	return exitCode(r.Verdict)
}

// localConcurrency is how many page loads run at once: as asked, but in
// a browser qualcert launches, no more than the machine's cores (at least
// 2, a run's default). Each load keeps a renderer busy until its campaigns
// settle; beyond the cores they only queue for the CPU inside Chromium,
// where the scenario timeout and the tab set-up bounds keep counting, so
// a site could be called broken for the load qualcert itself put on the
// machine. Queued for a slot instead, a load starts when the machine can
// hold it, and its verdict is the one it would have alone.
func localConcurrency(opt harness.Options, asked int) int {
	if opt.BrowserURL != "" || opt.Grid != "" {
		return asked
	}
	return min(asked, max(2, runtime.NumCPU()))
}

// localBurst is how many page loads may start beyond the concurrency while
// the CPUs are idle (steps.Config.Burst): in a Chromium qualcert launches
// only (the gauge is this machine's CPUs), and not when --concurrency was
// asked for without --burst (a run asked to load N pages at a time loads
// N). A fleet shares its slots (steps.Config.Slots) and has no burst.
func localBurst(opt harness.Options, burst int, burstSet, concurrencySet bool) int {
	if opt.BrowserURL != "" || opt.Grid != "" || concurrencySet && !burstSet {
		return 0
	}
	return burst
}

// ownMount names the publisher's folder in the reports (its base name,
// unless that is a built-in suite's).
func ownMount(dir string) string {
	name := filepath.Base(filepath.Clean(dir))
	if name == features.Certification || name == features.Reference || name == "." || name == ".." || name == string(filepath.Separator) {
		return "own"
	}
	return name
}

func exitCode(verdict string) int {
	switch verdict {
	case reports.Passed:
		return exitOK
	case reports.Broken:
		return exitBroken
	}
	return exitFailed
}
