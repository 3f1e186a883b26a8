package browser

import (
	"testing"
	"time"
)

// The emulated link of a throttled session: what the harness serves waits
// the latency and its size over the throughput, and requests in flight
// share the throughput in turn.
func TestLinkDelay(t *testing.T) {
	l := &link{latency: 400 * time.Millisecond, down: 50_000, up: 50_000} // 400 kbit/s each way
	at := time.Unix(1000, 0)
	// A 5 kB kit: 400 ms latency + 100 ms download (+ 10 ms for its 500 B request).
	if d := l.delay(at, 500, 5_000); d != 510*time.Millisecond {
		t.Fatalf("first request: %s, want 510ms", d)
	}
	// A second answer requested at the same instant waits for the first
	// download to be done: 510 ms + 100 ms.
	if d := l.delay(at, 0, 5_000); d != 610*time.Millisecond {
		t.Fatalf("second request: %s, want 610ms", d)
	}
	// Once the link is idle again, only the latency and the transfer count.
	later := at.Add(10 * time.Second)
	if d := l.delay(later, 0, 0); d != 400*time.Millisecond {
		t.Fatalf("idle link: %s, want 400ms", d)
	}
	// Unlimited throughput: the latency alone.
	u := &link{latency: 50 * time.Millisecond}
	if d := u.delay(at, 1<<20, 1<<20); d != 50*time.Millisecond {
		t.Fatalf("unlimited link: %s, want 50ms", d)
	}
}
