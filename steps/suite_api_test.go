package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/cucumber/godog"
)

// A publisher's own godog suite: qualcert's steps through Suite, next to a
// step of the publisher's own that reads the page load with PageLoad; one
// page load shared by the two scenarios; godog's tag filter from a Cucumber
// expression. The page is the package's fake, so this runs without a
// browser (examples/custom-suite runs the same in Chromium).
func TestSuiteLendsTheStepsToAnOwnGodogSuite(t *testing.T) {
	page := &fakePage{}
	suite := NewSuite(Config{Profile: fakeProfile()})
	suite.run.observer = newObserver(context.Background(), page.load, 2, "")
	defer suite.Close()

	feature := `Feature: House rules
  Scenario: Signed with our algorithm
    Given the publisher page of the profile
    When the participant opens the page
    Then every campaign receives its token before it asks for metadata
    And our tokens are signed with ES256

  Scenario: Signed with another algorithm
    Given the publisher page of the profile
    When the participant opens the page
    Then our tokens are signed with RS256

  @throttled
  Scenario: Filtered out
    Given the publisher page of the profile
    And the participant uses a slow phone on a slow network
    When the participant opens the page
`
	signedWith := func(ctx context.Context, alg string) error {
		load, err := PageLoad(ctx)
		if err != nil {
			return err
		}
		for _, c := range load.Campaigns {
			if got, _ := c.Token.Header["alg"].(string); got != alg {
				return fmt.Errorf("campaign %s: signed with %s", c.DivID, got)
			}
		}
		return nil
	}
	tags, err := ParseTags("not @throttled")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	status := godog.TestSuite{
		TestSuiteInitializer: suite.InitializeTestSuite,
		ScenarioInitializer: func(sc *godog.ScenarioContext) {
			suite.InitializeScenario(sc)
			sc.Step(`^our tokens are signed with (\S+)$`, signedWith)
		},
		Options: &godog.Options{
			Format: "cucumber", Output: &out, Strict: true, Tags: tags.Godog(),
			FS: fstest.MapFS{"house.feature": {Data: []byte(feature)}}, Paths: []string{"house.feature"},
		},
	}.Run()
	if status == 0 {
		t.Error("the suite passed; the second scenario breaks the house rule")
	}
	var feats []struct {
		Elements []struct {
			Name  string
			Steps []struct {
				Name   string
				Result struct{ Status, ErrorMessage string } `json:"result"`
			}
		}
	}
	if err := json.Unmarshal(out.Bytes(), &feats); err != nil || len(feats) != 1 {
		t.Fatalf("godog's cucumber output: %v\n%s", err, out.String())
	}
	got := map[string][]string{}
	for _, el := range feats[0].Elements {
		for _, st := range el.Steps {
			got[el.Name] = append(got[el.Name], st.Result.Status)
		}
	}
	want := map[string][]string{
		"Signed with our algorithm":     {"passed", "passed", "passed", "passed"},
		"Signed with another algorithm": {"passed", "passed", "failed"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("step statuses %v, want %v", got, want)
	}
	if n := page.calls.Load(); n != 1 {
		t.Errorf("%d page loads, want 1 shared by both scenarios", n)
	}
}

// PageLoad outside a scenario, or before the page is open, says what is
// missing.
func TestPageLoadNeedsAnOpenedPage(t *testing.T) {
	if _, err := PageLoad(context.Background()); err == nil {
		t.Error("PageLoad outside a scenario succeeded")
	}
	s := &scenario{}
	if _, err := PageLoad(withScenario(context.Background(), s)); err == nil {
		t.Error("PageLoad before the page opened succeeded")
	}
}
