package steps

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/reports"
)

// The shards of a run partition its page loads: each key falls in exactly
// one shard, the same one every time, and the shards share the work.
func TestShardOfPartitionsStably(t *testing.T) {
	if got := ShardOf("site-a", "profile", 2); got != 2 {
		t.Errorf("ShardOf(site-a, profile, 2) = %d, want 2 (the slicing must not change between versions: shards of one run may come from different builds)", got)
	}
	for _, n := range []int{1, 2, 3, 4, 8} {
		counts := make([]int, n+1)
		for i := 0; i < 400; i++ {
			site := fmt.Sprintf("site-%d", i/5)
			key := []string{"profile", "profile|logged-out", "profile|fault:token.expired", "profile|fault:token.signature_invalid", "profile|throttle:4x,400ms,400/400kbps"}[i%5]
			k := ShardOf(site, key, n)
			if k < 1 || k > n {
				t.Fatalf("ShardOf(%s, %s, %d) = %d: out of 1…%d", site, key, n, k, n)
			}
			if again := ShardOf(site, key, n); again != k {
				t.Fatalf("ShardOf not stable: %d then %d", k, again)
			}
			counts[k]++
		}
		for k := 1; k <= n; k++ {
			if counts[k] < 400/n/2 {
				t.Errorf("n=%d: shard %d got %d of 400 loads: %v", n, k, counts[k], counts[1:])
			}
		}
	}
	// one site's loads spread over the shards too (not all by site)
	split := 0
	for i := 0; i < 50; i++ {
		site := fmt.Sprintf("site-%d", i)
		if ShardOf(site, "profile", 2) != ShardOf(site, "profile|fault:token.expired", 2) {
			split++
		}
	}
	if split < 10 {
		t.Errorf("only %d of 50 sites have their two loads in different shards of 2", split)
	}
}

// A run sliced in shards and merged (reports.MergeSite) says what the whole
// run says, scenario by scenario, with the page loads' own findings stated
// once, as the whole run states them.
func TestShardsMergeToTheWholeRun(t *testing.T) {
	userinfo := finding.New(finding.UserInfoStatus, "the user-info webservice answered 500").WithCampaign(fakeDiv)
	pages := map[string]func() *fakePage{
		"passed":    func() *fakePage { return &fakePage{} },
		"late":      func() *fakePage { return &fakePage{late: true} },
		"page-load": func() *fakePage { return &fakePage{extra: []finding.Finding{userinfo}} },
		"expired":   func() *fakePage { return &fakePage{expired: true} },
	}
	for name, page := range pages {
		for _, n := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				whole := runFake(t, page(), Config{Profile: fakeProfile()})
				whole.Finalize()
				var shards []*reports.Report
				ran := 0
				for i := 1; i <= n; i++ {
					r := runFake(t, page(), Config{Profile: fakeProfile(), Shard: &Shard{Index: i, Count: n, Site: "site-a"}})
					base := r.PartialReason
					r.Shard = &reports.ShardRef{Index: i, Count: n, Fleet: "f", BasePartialReason: base}
					r.Partial, r.PartialReason = true, "shard"
					r.Finalize()
					ran += len(r.PageLoads)
					shards = append(shards, r)
				}
				if ran != len(whole.PageLoads) {
					t.Errorf("the shards ran %d page loads, the whole run %d", ran, len(whole.PageLoads))
				}
				m, err := reports.MergeSite(shards, nil)
				if err != nil {
					t.Fatal(err)
				}
				if m.Verdict != whole.Verdict || m.Summary != whole.Summary || m.Partial != whole.Partial {
					t.Errorf("merged %s %+v partial %v; whole %s %+v partial %v", m.Verdict, m.Summary, m.Partial, whole.Verdict, whole.Summary, whole.Partial)
				}
				for i, s := range whole.Scenarios {
					if got := m.Scenarios[i]; got.ID != s.ID || got.Status != s.Status || got.SkipReason != s.SkipReason {
						t.Errorf("scenario %s: merged %s (%s), whole %s (%s)", s.ID, got.Status, got.SkipReason, s.Status, s.SkipReason)
					}
				}
				key := func(fs []finding.Finding) []string {
					var out []string
					for _, f := range fs {
						out = append(out, fmt.Sprintf("%s %s %s %s", f.Code, f.Campaign, f.Scenario, f.PageLoad))
					}
					sort.Strings(out)
					return out
				}
				if w, g := key(whole.Findings), key(m.Findings); !slices.Equal(w, g) {
					t.Errorf("findings differ:\nwhole  %q\nmerged %q", w, g)
				}
			})
		}
	}
}
