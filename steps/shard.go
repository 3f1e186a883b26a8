package steps

import (
	"fmt"
	"hash/fnv"
)

// Shard is one slice of a run's page loads (qualcert run --shard i/n): the
// scenarios whose page load falls in another slice are skipped with the
// shard that runs them (reports.Scenario.InShard), so that the reports of
// the n shards of one run, merged (qualcert merge), hold every scenario once.
type Shard struct {
	Index, Count int    // 1 ≤ Index ≤ Count
	Site         string // names the site in the fleet: part of the slicing key
}

// ShardOf is the shard (1…n) that runs the page load of key on site: FNV-1a
// of site and key, mixed, modulo n. It depends on nothing else, so the shards
// of one fleet, run on different machines, partition its page loads exactly.
// The mix (splitmix64's finalizer) matters: FNV-1a's low bits are weak (its
// value mod 2 is the parity of the bytes' low bits), so without it the loads
// of one site would all fall in one shard of two.
func ShardOf(site, pageLoadKey string, n int) int {
	if n <= 1 {
		return 1
	}
	h := fnv.New64a()
	fmt.Fprintf(h, "%s\x00%s", site, pageLoadKey)
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return int(x%uint64(n)) + 1
}

// String is "i/n".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }
