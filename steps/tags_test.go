package steps

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/cucumber/godog"

	"github.com/qualcert/qualcert/harness/finding"
)

func TestParseTagsAcceptsCucumberAndGodogForms(t *testing.T) {
	for _, tc := range []struct {
		expr string
		in   [][]string // tag sets selected
		out  [][]string // tag sets not selected
	}{
		{"", [][]string{{}, {"@a"}}, nil},
		{"not @throttled", [][]string{{}, {"@jws"}}, [][]string{{"@throttled"}, {"@jws", "@throttled"}}},
		{"~@throttled", [][]string{{}, {"@jws"}}, [][]string{{"@throttled"}}},
		{"~throttled", [][]string{{}, {"@jws"}}, [][]string{{"@throttled"}}}, // godog's form, @ optional there
		{"@jws and not @throttled", [][]string{{"@jws"}}, [][]string{{}, {"@jws", "@throttled"}}},
		{"@jws,@jwe && ~@throttled", [][]string{{"@jws"}, {"@jwe"}}, [][]string{{}, {"@jwe", "@throttled"}}},
		{"(@a or @b) and not (@c or @d)", [][]string{{"@a"}, {"@b", "@a"}}, [][]string{{"@a", "@d"}, {"@c"}, {}}},
		{`@with\ space or @x`, [][]string{{"@with space"}, {"@x"}}, [][]string{{"@with"}}},
		{" @tag ", [][]string{{"@tag"}}, [][]string{{}}},
	} {
		tags, err := ParseTags(tc.expr)
		if err != nil {
			t.Errorf("ParseTags(%q): %v", tc.expr, err)
			continue
		}
		for _, in := range tc.in {
			if !tags.Match(in) {
				t.Errorf("%q does not select %v", tc.expr, in)
			}
		}
		for _, out := range tc.out {
			if tags.Match(out) {
				t.Errorf("%q selects %v", tc.expr, out)
			}
		}
	}
}

func TestParseTagsRejectsMalformedExpressions(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{"((", "tag expression"},
		{"@a and", "tag expression"},
		{"not", "tag expression"},
		{"@a @b", "tag expression"},
		{"@a and (@b or @c", "tag expression"},
		{"@a) or @b", "tag expression"},
		{"throttled", `"throttled" is not a tag (tags start with @`},
		{"@a AND @b", `"AND" is not a tag`},
		{"@tag &&", "is not a tag"},
		{"&&", "is not a tag"},
		{"@a,,@b", "is not a tag"},
		{"~", "is not a tag"},
		{"@a&&~", "is not a tag"},
		{`@a\`, "backslash"},
		{"@a or @b or @c or @d or @e or @f or @g or @h or @i or @j or @k or @l or @m", "at most 12"},
	} {
		_, err := ParseTags(tc.expr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTags(%q) = %v, want an error saying %q", tc.expr, err, tc.want)
		}
	}
}

// Godog's form of an expression selects, through godog's own filter, exactly
// the scenarios the expression selects: checked over every combination of
// the tags, with scenarios godog itself parses.
func TestGodogFormSelectsTheSameScenariosThroughGodog(t *testing.T) {
	universe := []string{"@a", "@b", "@c", "@throttled"}
	var feature strings.Builder
	feature.WriteString("Feature: tags\n")
	var sets [][]string
	for mask := 0; mask < 1<<len(universe); mask++ {
		var set []string
		for i, tag := range universe {
			if mask&(1<<i) != 0 {
				set = append(set, tag)
			}
		}
		sets = append(sets, set)
		fmt.Fprintf(&feature, "  %s\n  Scenario: s%d\n    Given a step\n", strings.Join(set, " "), mask)
	}
	fsys := fstest.MapFS{"t.feature": {Data: []byte(feature.String())}}
	for _, expr := range []string{
		"not @throttled", "@a and not @throttled", "@a or @b", "(@a or @b) and not (@c or @throttled)",
		"not (@a and @b)", "@a and not @a", "@a or not @a", "@x or @a", "~@throttled", "@a,@b && ~@c",
	} {
		tags, err := ParseTags(expr)
		if err != nil {
			t.Fatalf("ParseTags(%q): %v", expr, err)
		}
		var want []string
		for i, set := range sets {
			if tags.Match(set) {
				want = append(want, fmt.Sprintf("s%d", i))
			}
		}
		ts := godog.TestSuite{Options: &godog.Options{FS: fsys, Paths: []string{"t.feature"}, Tags: tags.Godog()}}
		feats, err := ts.RetrieveFeatures()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ft := range feats {
			for _, p := range ft.Pickles {
				got = append(got, p.Name)
			}
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q (godog %q): godog selects %v, the expression %v", expr, tags.Godog(), got, want)
		}
	}
}

// Every step qualcert lists has an example that its own pattern matches, and
// no other; and a description of what it asserts.
func TestEveryListedStepHasAnExampleItAloneMatches(t *testing.T) {
	defs := definitions()
	for _, st := range Steps() {
		n := 0
		for _, d := range defs {
			if regexp.MustCompile(d.pattern).MatchString(st.Example) {
				n++
				if d.pattern != st.Pattern {
					t.Errorf("example %q of %s also matches %s", st.Example, st.Pattern, d.pattern)
				}
			}
		}
		if n != 1 || st.Asserts == "" || (st.Kind != "Given" && st.Kind != "When" && st.Kind != "Then") {
			t.Errorf("%s: example %q matches %d definitions, kind %q, asserts %q", st.Pattern, st.Example, n, st.Kind, st.Asserts)
		}
		for _, c := range st.Codes {
			if _, ok := finding.Lookup(c); !ok {
				t.Errorf("%s names an unknown code %s", st.Pattern, c)
			}
		}
	}
}

// An undefined step's nearest steps start with the one meant.
func TestSuggestFindsTheStepMeant(t *testing.T) {
	for text, want := range map[string]string{
		"the participant opens page":       "the participant opens the page",
		"the kit is loaded":                "the Qualifio kit is loaded",
		"the user info webservice answers": "the user-info webservice returns the participant's data",
		"a logged in user":                 "a logged-in participant",
		"the campaign is blocked":          "the campaign shows the blocked spinner",
		"the token is signed with ES256":   "the token is signed (JWS) with an allowed algorithm and a known key",
	} {
		if got := Suggest(text, 3); len(got) != 3 || got[0] != want {
			t.Errorf("Suggest(%q) = %q, want %q first", text, got, want)
		}
	}
}
