package harness

import (
	"testing"
	"time"
)

// TestCapturedTokenJudgedAsOfItsCapture: a token captured days ago has
// expired by now; judged as of its issue time (run --at) it is valid and
// the campaign prefills, judged now it is token.expired.
func TestCapturedTokenJudgedAsOfItsCapture(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	issued := time.Now().Add(-72 * time.Hour).Truncate(time.Second)
	tok := f.mint("111", map[string]any{"iat": issued.Unix(), "exp": issued.Unix() + 600})
	u := f.page("/captured", tag(div(testDiv), create(testDiv, testHost, "G1"), setMeta(tok, testDiv)))

	res, err := runScenario(t, Scenario{Profile: f.profile(u, 1), At: issued.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	expectCodes(t, res)
	c := campaignOf(t, res, testDiv)
	if c.Outcome != OutcomePrefilled || c.Token == nil || !c.Token.Valid() || c.Token.TimesAsOf == "" {
		t.Fatalf("--at its issue time: campaign = %+v", c)
	}

	res, err = runScenario(t, Scenario{Profile: f.profile(u, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if c := campaignOf(t, res, testDiv); c.Token == nil || c.Token.Valid() {
		t.Fatalf("judged now: campaign = %+v", c)
	}
	found := false
	for _, code := range codes(res) {
		found = found || code == "token.expired"
	}
	if !found {
		t.Fatalf("judged now: codes %v, want token.expired", codes(res))
	}
}
