package steps

import (
	"fmt"
	"testing"
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
