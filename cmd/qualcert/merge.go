package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/qualcert/qualcert/reports"
)

const mergeUsage = `Usage: qualcert merge [flags] DIR…

Joins the report folders of the shards of one run (qualcert run --shard i/n,
one folder per shard) into the reports a single run would have written:
report.json, report.html, junit.xml and cucumber.json, with the screenshots.
Each scenario is taken from the shard that ran its page load.

The folders must be the shards of one run (the same profiles, tags and
features: the same fleet id) and hold each shard 1…n exactly once: shards of
different runs, a shard given twice or a missing shard are refused (exit 2),
unless --partial, which merges what is there into a partial report (not a
certification).

Flags:
`

const mergeExitCodes = `
Exit codes: the merged verdict's, as qualcert run: 0 passed, 1 failed,
3 broken; 2 usage: unreadable report folders, shards of different runs,
overlapping or missing shards (without --partial).
`

// cmdMerge is `qualcert merge DIR…`.
func cmdMerge(ctx context.Context, e env, args []string) int {
	fl := newFlags("merge")
	var (
		reportDir = fl.String("report-dir", "./qualcert-report", "`DIR` to write the merged reports into")
		partial   = fl.Bool("partial", false, "merge the shards given even if some are missing (the report is then partial: not a certification)")
		revealArg = fl.Bool("reveal", false, "the shards were run with --reveal: keep their values unredacted")
		colorMode = fl.String("color", "auto", "colour the terminal summary: auto, always or never")
	)
	if code, done := parseFlags(e, fl, "merge", args, func(w io.Writer) {
		fmt.Fprint(w, mergeUsage)
		printFlags(w, fl)
		fmt.Fprint(w, mergeExitCodes)
	}); done {
		return code
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "qualcert merge: "+format+"\n", a...)
		return exitUsage
	}
	stdoutFile, _ := e.stdout.(*os.File)
	color, err := reports.ColorMode(*colorMode, stdoutFile)
	if err != nil {
		return usageErr("%v", err)
	}
	dirs := fl.Args()
	if len(dirs) == 0 {
		return usageErr("give the report folders of the shards (qualcert merge DIR…)")
	}
	if *reportDir == "" {
		return usageErr("--report-dir must not be empty")
	}
	out, _ := filepath.Abs(*reportDir)
	tops := make([]*reports.Report, len(dirs))
	for i, d := range dirs {
		if abs, _ := filepath.Abs(d); abs == out {
			return usageErr("--report-dir %s is one of the shards' folders: write the merged reports elsewhere", *reportDir)
		}
		r, err := reports.ReadJSON(filepath.Join(d, reports.JSONFile))
		if err != nil {
			return usageErr("reading the shard in %s: %v", d, err)
		}
		if r.Shard == nil {
			return usageErr("%s is not a shard's report (it was not run with --shard i/n)", d)
		}
		tops[i] = r
	}
	first := tops[0].Shard
	byIndex := map[int]string{}
	for i, r := range tops {
		sh := r.Shard
		if sh.Fleet != first.Fleet || sh.Count != first.Count {
			return usageErr("%s (shard %d/%d of run %s) and %s (shard %d/%d of run %s) are not shards of the same run (same profiles, tags and features, same n)",
				dirs[0], first.Index, first.Count, first.Fleet, dirs[i], sh.Index, sh.Count, sh.Fleet)
		}
		if prev, dup := byIndex[sh.Index]; dup {
			return usageErr("shard %d/%d is given twice (%s and %s): the shards overlap", sh.Index, sh.Count, prev, dirs[i])
		}
		byIndex[sh.Index] = dirs[i]
	}
	var missing []int
	for k := 1; k <= first.Count; k++ {
		if _, ok := byIndex[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 && !*partial {
		return usageErr("shard%s %s of %d missing: give every shard's folder, or --partial for a partial report", plural(len(missing)), joinInts(missing), first.Count)
	}
	// shards in index order, so that the merge does not depend on the
	// order of the arguments
	order := make([]int, len(dirs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return tops[order[a]].Shard.Index < tops[order[b]].Shard.Index })
	sortedDirs := make([]string, len(dirs))
	sortedTops := make([]*reports.Report, len(dirs))
	indices := make([]int, len(dirs))
	for i, k := range order {
		sortedDirs[i], sortedTops[i], indices[i] = dirs[k], tops[k], tops[k].Shard.Index
	}
	dirs, tops = sortedDirs, sortedTops
	reveal := *revealArg || tops[0].Revealed
	mergedRef := &reports.MergeRef{Fleet: first.Fleet, Count: first.Count, Shards: indices, Missing: missing}

	// the reports are merged first: a refusal writes nothing
	prepareDir := func() int {
		if err := os.MkdirAll(*reportDir, 0o755); err != nil {
			return usageErr("creating the report folder: %v", err)
		}
		for _, d := range dirs {
			if err := copyEvidence(d, *reportDir); err != nil {
				fmt.Fprintf(e.stderr, "qualcert merge: copying the screenshots of %s: %v\n", d, err)
				return exitBroken
			}
		}
		return exitOK
	}
	summary := reports.SummaryOptions{Color: color, Reveal: reveal}
	fmt.Fprintf(e.stdout, "qualcert merge: %d of %d shards of run %s\n", len(dirs), first.Count, first.Fleet)

	if len(tops[0].Sites) == 0 {
		m, err := reports.MergeSite(tops, missing)
		if err != nil {
			return usageErr("%v", err)
		}
		m.Merged = mergedRef
		if code := prepareDir(); code != exitOK {
			return code
		}
		htmlPath := filepath.Join(*reportDir, reports.HTMLFile)
		if written, err := reports.WriteAll(*reportDir, m, reports.WriteOptions{Reveal: reveal}); err != nil {
			fmt.Fprintf(e.stderr, "qualcert merge: writing the reports: %v\n", err)
			if len(written) == 0 {
				return exitBroken
			}
			htmlPath = written[0]
		}
		fmt.Fprintln(e.stdout)
		reports.WriteSummaryWith(e.stdout, m, htmlPath, summary)
		return exitCode(m.Verdict)
	}

	var results []reports.SiteResult
	for _, st := range tops[0].Sites {
		var shards []*reports.Report
		for i, d := range dirs {
			if !slices.ContainsFunc(tops[i].Sites, func(s reports.Site) bool { return s.ID == st.ID }) {
				return usageErr("site %s is not in the shard of %s: not shards of the same run", st.ID, d)
			}
			r, err := reports.ReadJSON(filepath.Join(d, filepath.FromSlash(st.Report)))
			if err != nil {
				return usageErr("reading site %s of the shard in %s: %v", st.ID, d, err)
			}
			shards = append(shards, r)
		}
		m, err := reports.MergeSite(shards, missing)
		if err != nil {
			return usageErr("site %s: %v", st.ID, err)
		}
		m.Merged = mergedRef
		results = append(results, reports.SiteResult{ID: st.ID, Profile: st.Profile, Report: m})
	}
	if code := prepareDir(); code != exitOK {
		return code
	}
	stale := reports.FleetAllowances(results)
	fleet := tops[0].Fleet
	if fleet == nil {
		fleet = &reports.FleetRef{ID: first.Fleet, Sites: len(results)}
	}
	return writeFleet(e, "merge", results, fleet, stale, *reportDir, reveal, summary, nil, mergedRef)
}

// copyEvidence copies the files of a shard's report folder (screenshots),
// but not its reports, into dir.
func copyEvidence(shard, dir string) error {
	return filepath.WalkDir(shard, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(shard, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		switch filepath.Base(rel) {
		case reports.JSONFile, reports.HTMLFile, reports.JUnitFile, reports.CucumberFile:
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
}

func joinInts(xs []int) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprint(x)
	}
	return s
}
