// Package customsuite is a publisher's own godog suite: qualcert's steps
// next to one step of the publisher's own, run with `go test` or with the
// godog CLI. See docs/extending.md in qualcert's repository.
//
//	go test ./...                                         # every scenario
//	go test ./... -godog.tags='not @throttled'            # a Cucumber tag expression
//	QUALCERT_PROFILE=site.yaml go test ./...              # your page instead of the demo
//	godog run --tags='~@throttled' features/              # the godog CLI (its own tag syntax)
package customsuite

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/qualcert/qualcert/harness/demo"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/steps"
)

var (
	suite *steps.Suite
	site  *demo.Server // the embedded demo publisher, when no QUALCERT_PROFILE is given
)

// InitializeTestSuite and InitializeScenario are found by name by the godog
// CLI, and used by TestFeatures under go test.
func InitializeTestSuite(ts *godog.TestSuiteContext) {
	ts.BeforeSuite(func() {
		p, err := loadProfile()
		if err != nil {
			fmt.Fprintln(os.Stderr, "custom suite:", err)
			os.Exit(2)
		}
		suite = steps.NewSuite(steps.Config{Profile: p})
	})
	ts.AfterSuite(func() {
		_ = suite.Close()
		if site != nil {
			_ = site.Close()
		}
	})
}

func InitializeScenario(sc *godog.ScenarioContext) {
	suite.InitializeScenario(sc)                              // qualcert's steps
	sc.Step(`^our tokens are signed with (\S+)$`, signedWith) // ours
}

// signedWith is a house rule the certification does not demand: the
// group's sites all sign with one algorithm. It reads what qualcert
// observed of the scenario's page load.
func signedWith(ctx context.Context, alg string) error {
	load, err := steps.PageLoad(ctx)
	if err != nil {
		return err
	}
	for _, c := range load.Campaigns {
		if c.Token == nil {
			return fmt.Errorf("campaign %s received no token", c.DivID)
		}
		header := c.Token.Header
		if c.Token.InnerHeader != nil { // a signed token inside a JWE
			header = c.Token.InnerHeader
		}
		if got, _ := header["alg"].(string); got != alg {
			return fmt.Errorf("campaign %s received a token signed with %q; our rule is %s", c.DivID, got, alg)
		}
	}
	return nil
}

// loadProfile reads $QUALCERT_PROFILE, or serves qualcert's demo publisher
// and certifies its good variant.
func loadProfile() (*profile.Profile, error) {
	if path := os.Getenv("QUALCERT_PROFILE"); path != "" {
		p, err := profile.Load(path)
		if err == nil {
			err = p.ResolveEnv()
		}
		return p, err
	}
	var err error
	if site, err = demo.Start(context.Background(), "127.0.0.1:0"); err != nil {
		return nil, err
	}
	p, err := site.Profile("jws-inline")
	if err != nil {
		return nil, err
	}
	// A shared CI machine can be slow: give each page load a minute rather
	// than the demo's 10 s before the scenario is broken (no verdict).
	p.Timing.Timeout = profile.Duration(time.Minute)
	return p, nil
}

var tags = flag.String("godog.tags", "", "a Cucumber tag expression, e.g. 'not @throttled'")

func TestFeatures(t *testing.T) {
	filter, err := steps.ParseTags(*tags)
	if err != nil {
		t.Fatal(err)
	}
	status := godog.TestSuite{
		Name:                 "house-rules",
		TestSuiteInitializer: InitializeTestSuite,
		ScenarioInitializer:  InitializeScenario,
		Options: &godog.Options{
			Format:   "pretty",
			Paths:    []string{"features"},
			Tags:     filter.Godog(), // godog reads only its own tag syntax
			Strict:   true,
			TestingT: t, // each scenario a subtest
		},
	}.Run()
	if status != 0 {
		t.Fatalf("the suite failed (status %d)", status)
	}
}
