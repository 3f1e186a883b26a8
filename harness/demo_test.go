package harness

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/harness/finding"
)

// TestDemoVariants runs every variant of the embedded demo publisher
// through the harness: the must/should codes of its findings must be
// exactly the variant's Expect (info codes ignored), and a good variant
// must have no must finding.
func TestDemoVariants(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the demo: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	for _, v := range srv.Variants() {
		t.Run(v.Slug, func(t *testing.T) {
			t.Parallel()
			p, err := srv.Profile(v.Slug)
			if err != nil {
				t.Fatal(err)
			}
			res, err := runScenario(t, Scenario{Name: v.Title, Profile: p, LoggedOut: v.LoggedOut, Fault: v.Fault})
			if err != nil {
				dumpTimeline(t, res)
				t.Fatal(err)
			}
			t.Logf("%s: %s, %d events, %d findings", v.Slug, res.Duration.Round(time.Millisecond), len(res.Timeline), len(res.Findings))
			var want []string
			for _, c := range v.Expect {
				if spec, ok := finding.Lookup(c); !ok || spec.Level != finding.Info {
					want = append(want, string(c))
				}
			}
			got := uniq(codes(res))
			slices.Sort(want)
			if !slices.Equal(got, uniq(want)) {
				dumpTimeline(t, res)
				t.Fatalf("variant %s: must/should codes = %v, want %v", v.Slug, got, want)
			}
			if v.Good && finding.HasMust(res.Findings) {
				t.Fatalf("good variant %s has a must finding", v.Slug)
			}
		})
	}
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// The logged-out variant's profile, as `qualcert run --profile` certifies
// it in its logged-in scenarios: with the profile's session the page hands
// the participant's token, and nothing is wrong (its logged-out scenario
// gets the variant's warning, TestDemoVariants). Without the session in the
// profile, these scenarios saw a visitor who is not logged in and failed
// with token.missing, where the variant promises a passed verdict.
func TestDemoLoggedOutVariantProfileLoggedIn(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := demo.Start(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("starting the demo: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	p, err := srv.Profile("logged-out-empty-token")
	if err != nil {
		t.Fatal(err)
	}
	res, err := runScenario(t, Scenario{Profile: p})
	if err != nil {
		dumpTimeline(t, res)
		t.Fatal(err)
	}
	expectCodes(t, res)
	for _, c := range res.Campaigns {
		if c.Outcome != OutcomePrefilled {
			dumpTimeline(t, res)
			t.Fatalf("campaign %s: outcome %s, want prefilled", c.DivID, c.Outcome)
		}
	}
}
