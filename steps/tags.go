package steps

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	tagexpressions "github.com/cucumber/tag-expressions/go/v6"
)

// Tags is a parsed tag expression, the --tags of qualcert run.
//
// It reads Cucumber's tag expressions (not, and, or, parentheses; a
// backslash escapes a space or a parenthesis in a tag), parsed by Cucumber's
// own library:
//
//	not @throttled
//	@jws and not (@expired-token or @missing-token)
//
// and godog's older form, which qualcert accepted first: "&&" between terms
// that must all hold, "," between alternatives, "~" to negate:
//
//	~@throttled
//	@jws,@jwe && ~@throttled
//
// godog itself reads only the older form, so Godog returns an equivalent
// expression in it (a conjunction of the clauses the expression's truth
// table requires): use it as godog.Options.Tags in a suite of your own.
type Tags struct {
	src    string
	eval   tagexpressions.Evaluatable // nil: no filter
	names  []string                   // the distinct tags the expression names
	legacy string
}

// maxTagNames bounds the tags of one expression: Godog enumerates the 2^n
// combinations of their presence.
const maxTagNames = 12

var legacyTerm = regexp.MustCompile(`^(~?)@?([^\s,&~@()]+)$`)

// ParseTags parses expr (Cucumber or godog syntax; "" matches every
// scenario). An error says what is wrong in words a user can act on.
func ParseTags(expr string) (Tags, error) {
	t := Tags{src: expr}
	if strings.TrimSpace(expr) == "" {
		return t, nil
	}
	cucumber := expr
	if strings.ContainsAny(expr, "~,") || strings.Contains(expr, "&&") {
		var err error
		if cucumber, err = fromLegacy(expr); err != nil {
			return Tags{}, err
		}
	}
	names, err := tagNames(cucumber)
	if err != nil {
		return Tags{}, fmt.Errorf("tag expression %q: %w", expr, err)
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "@") || n == "@" {
			return Tags{}, fmt.Errorf("tag expression %q: %q is not a tag (tags start with @; the operators are not, and, or in lower case, with parentheses)", expr, n)
		}
	}
	if len(names) > maxTagNames {
		return Tags{}, fmt.Errorf("tag expression %q names %d tags; at most %d", expr, len(names), maxTagNames)
	}
	eval, err := parseCucumber(cucumber)
	if err != nil {
		return Tags{}, fmt.Errorf("tag expression %q: %s", expr, strings.TrimPrefix(err.Error(), "Tag expression \""+cucumber+"\" could not be parsed because of "))
	}
	t.eval, t.names = eval, names
	t.legacy = t.toGodog()
	return t, nil
}

// parseCucumber is tagexpressions.Parse, which panics on an operator
// without its operand ("@a and", "not"): that is a syntax error too.
func parseCucumber(expr string) (eval tagexpressions.Evaluatable, err error) {
	defer func() {
		if recover() != nil {
			eval, err = nil, errors.New("syntax error: an operator (not, and, or) lacks its operand")
		}
	}()
	return tagexpressions.Parse(expr)
}

// fromLegacy rewrites godog's form into Cucumber's.
func fromLegacy(expr string) (string, error) {
	var ands []string
	for _, and := range strings.Split(expr, "&&") {
		var ors []string
		for _, term := range strings.Split(and, ",") {
			m := legacyTerm.FindStringSubmatch(strings.TrimSpace(term))
			if m == nil {
				return "", fmt.Errorf("tag expression %q: %q is not a tag (write @tag or ~@tag, joined by && or , — or use not, and, or)", expr, strings.TrimSpace(term))
			}
			// godog matched tags with or without their @: so does this
			term = "@" + m[2]
			if m[1] == "~" {
				term = "not " + term
			}
			ors = append(ors, term)
		}
		ands = append(ands, "("+strings.Join(ors, " or ")+")")
	}
	return strings.Join(ands, " and "), nil
}

// tagNames lists the distinct literals of a Cucumber expression, tokenized
// as Cucumber's library does (whitespace and parentheses separate tokens, a
// backslash escapes them).
func tagNames(expr string) ([]string, error) {
	var names []string
	var tok strings.Builder
	flush := func() {
		if s := tok.String(); s != "" && s != "and" && s != "or" && s != "not" && !slices.Contains(names, s) {
			names = append(names, s)
		}
		tok.Reset()
	}
	escaped := false
	for _, c := range expr {
		switch {
		case escaped:
			tok.WriteRune(c)
			escaped = false
		case c == '\\':
			escaped = true
		case c == '(' || c == ')' || unicode.IsSpace(c):
			flush()
		default:
			tok.WriteRune(c)
		}
	}
	if escaped {
		return nil, fmt.Errorf("a backslash ends the expression")
	}
	flush()
	return names, nil
}

// toGodog builds godog's form: one clause per combination of the named
// tags that the expression rejects, each clause saying "not this
// combination".
func (t Tags) toGodog() string {
	n := len(t.names)
	var clauses []string
	always := true
	for mask := 0; mask < 1<<n; mask++ {
		var present []string
		for i, name := range t.names {
			if mask&(1<<i) != 0 {
				present = append(present, name)
			}
		}
		if t.eval.Evaluate(present) {
			continue
		}
		always = false
		var lits []string
		for i, name := range t.names {
			if mask&(1<<i) != 0 {
				lits = append(lits, "~"+name)
			} else {
				lits = append(lits, name)
			}
		}
		clauses = append(clauses, strings.Join(lits, ","))
	}
	if always {
		return ""
	}
	return strings.Join(clauses, " && ")
}

// String is the expression as given.
func (t Tags) String() string { return t.src }

// Empty says the expression filters nothing.
func (t Tags) Empty() bool { return t.eval == nil }

// Match says whether a scenario with tags (each with its @) is selected.
func (t Tags) Match(tags []string) bool {
	return t.eval == nil || t.eval.Evaluate(tags)
}

// Godog is the same filter in the form godog.Options.Tags reads ("" when
// it filters nothing).
func (t Tags) Godog() string { return t.legacy }

// CheckTags validates a tag expression (see Tags).
func CheckTags(expr string) error {
	_, err := ParseTags(expr)
	return err
}
