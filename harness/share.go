package harness

import (
	"path"
	"slices"
	"strings"

	"github.com/qualcert/qualcert/harness/profile"
)

// One browser for several profiles (the sites of a fleet).
//
// A launched browser is confined for its profile (ConfineTo): the name
// resolver of the whole browser never resolves Qualifio's domains nor the
// profile's campaign hosts, except the hosts the page itself lives on. Page
// loads run in incognito contexts of their own, so that cookies, storage and
// caches are never shared; the resolver is the only state a browser holds for
// its profile. Two profiles may therefore share a launched browser exactly
// when the browser would be confined the same way for either: the same hosts
// blocked, and the same page hosts among them let through. ShareKey says
// which; a remote browser or a grid is not confined by qualcert, so every
// profile may share it.

// ShareKey is the same for two profiles exactly when one browser started
// with ConfineAll(opt, both) resolves every host as the browser of each
// profile alone would (ConfineTo(opt, p)); a browser started for profiles of
// one key serves each of them with the verdicts of a run of its own.
func ShareKey(opt Options, p *profile.Profile) string {
	if opt.BrowserURL != "" || opt.Grid != "" {
		return "remote" // no resolver rules of qualcert's
	}
	c := ConfineTo(Options{}, p)
	// what Start blocks (and browser's resolverRules: .invalid, always)
	block := []string{"*.invalid"}
	if !opt.LiveKit {
		block = append(append(block, qualifioHosts...), c.Confine...)
	}
	block = sortedSet(block)
	// A page host that the block list matches is let through for its
	// profile only: profiles that let through different ones cannot share.
	var through []string
	for _, h := range c.Reach {
		for _, pat := range block {
			if hostMatches(pat, h) {
				through = append(through, h)
				break
			}
		}
	}
	key := "block:" + strings.Join(block, ",")
	if len(through) > 0 {
		key += "|through:" + strings.Join(sortedSet(through), ",")
	}
	return key
}

// ConfineAll is ConfineTo for every profile of ps (of one ShareKey): the
// options of the browser they share.
func ConfineAll(opt Options, ps ...*profile.Profile) Options {
	for _, p := range ps {
		opt = ConfineTo(opt, p)
	}
	opt.Confine, opt.Reach = sortedSet(opt.Confine), sortedSet(opt.Reach)
	return opt
}

// hostMatches reports whether host h matches the resolver pattern pat (a
// host, or a glob such as *.qualifio.com), as Chromium's
// --host-resolver-rules MAP does, case-insensitively.
func hostMatches(pat, h string) bool {
	ok, err := path.Match(strings.ToLower(pat), strings.ToLower(h))
	return err == nil && ok
}

func sortedSet(xs []string) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if x = strings.ToLower(strings.TrimSpace(x)); x != "" {
			out = append(out, x)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
