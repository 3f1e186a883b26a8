package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/qualcert/qualcert/harness/finding"
)

// AllowEntry is one expected deviation: a finding code (a glob such as
// "token.*" is accepted), optionally narrowed to a campaign (div id) and a
// scenario (name or id, globs accepted), and the reason the deviation is
// accepted. Line is where the entry starts in the file.
type AllowEntry struct {
	Code     string `json:"code" yaml:"code"`
	Campaign string `json:"campaign,omitempty" yaml:"campaign"`
	Scenario string `json:"scenario,omitempty" yaml:"scenario"`
	Reason   string `json:"reason" yaml:"reason"`
	Line     int    `json:"line,omitempty" yaml:"-"`
}

func (e AllowEntry) String() string {
	s := e.Code
	if e.Campaign != "" {
		s += " campaign=" + e.Campaign
	}
	if e.Scenario != "" {
		s += " scenario=" + e.Scenario
	}
	if e.Line > 0 {
		s += fmt.Sprintf(" (line %d)", e.Line)
	}
	return s
}

// matches reports whether the entry covers f, a finding of the scenario
// whose name and id are given.
func (e AllowEntry) matches(f finding.Finding, scenarioName, scenarioID string) bool {
	if ok, _ := path.Match(e.Code, string(f.Code)); !ok {
		return false
	}
	if e.Campaign != "" {
		if ok, _ := path.Match(e.Campaign, f.Campaign); !ok {
			return false
		}
	}
	if e.Scenario != "" {
		okName, _ := path.Match(e.Scenario, scenarioName)
		okID, _ := path.Match(e.Scenario, scenarioID)
		okRaw, _ := path.Match(e.Scenario, f.Scenario)
		if !okName && !okID && !okRaw {
			return false
		}
	}
	return true
}

// AllowList is the expected-deviations file (--allow): findings a publisher
// knows about and accepts, each with a reason. A matching finding keeps its
// level but gets Allowed = reason, shows as allowed in every report and fails
// nothing; an entry that matches nothing is stale and fails the run.
//
// The file is YAML: a list of entries, or a mapping with the list under
// "allow":
//
//   - code: token.lifetime_too_long
//     reason: "SSO tokens live 2 h until ticket OPS-123 ships"
//   - code: setmetadata.race
//     campaign: qualifio_insert_place_945645
//     scenario: "Slow network*"
//     reason: "accepted by Qualifio support, 2026-11-02"
type AllowList struct {
	Entries []AllowEntry

	mu   sync.Mutex
	used map[int]bool // entries Reason matched, for Apply's stale check
}

// Reason returns the reason of the first entry that allows f, a finding of
// the scenario with that name and id ("" for a page load's finding that no
// scenario asserted), or "". The run calls it as findings are observed, so
// that a step asserting on an allowed finding passes; Apply later reports
// the entries that matched nothing. Safe for concurrent use.
func (a *AllowList) Reason(f finding.Finding, scenarioName, scenarioID string) string {
	if a == nil {
		return ""
	}
	for j, e := range a.Entries {
		if e.Scenario != "" && scenarioName == "" && scenarioID == "" {
			continue
		}
		if e.matches(f, scenarioName, scenarioID) {
			a.mu.Lock()
			if a.used == nil {
				a.used = map[int]bool{}
			}
			a.used[j] = true
			a.mu.Unlock()
			return e.Reason
		}
	}
	return ""
}

// MaxAllowFileSize bounds the expected-deviations file.
const MaxAllowFileSize = 1 << 20

// LoadAllow reads an expected-deviations file.
func LoadAllow(file string) (*AllowList, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading expected-deviations file: %w", err)
	}
	a, err := ParseAllow(b)
	if err != nil {
		return nil, fmt.Errorf("expected-deviations file %s: %w", file, err)
	}
	return a, nil
}

// ParseAllow parses the content of an expected-deviations file. Errors name
// the line: unknown keys, a missing reason or code, a code that matches no
// known finding code, a malformed glob.
func ParseAllow(b []byte) (*AllowList, error) {
	if len(b) > MaxAllowFileSize {
		return nil, fmt.Errorf("file is %d bytes, over the %d byte limit", len(b), MaxAllowFileSize)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &AllowList{}, nil // an empty file allows nothing
		}
		return nil, fmt.Errorf("parsing YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return &AllowList{}, nil
	}
	root := doc.Content[0]
	list := root
	if root.Kind == yaml.MappingNode {
		list = nil
		for i := 0; i+1 < len(root.Content); i += 2 {
			k := root.Content[i]
			if k.Value != "allow" {
				return nil, fmt.Errorf("line %d: unknown key %q (expected \"allow\")", k.Line, k.Value)
			}
			list = root.Content[i+1]
		}
		if list == nil {
			return &AllowList{}, nil
		}
	}
	if list.Kind == yaml.ScalarNode && list.Tag == "!!null" {
		return &AllowList{}, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("line %d: expected a list of entries {code, campaign, scenario, reason}", list.Line)
	}
	a := &AllowList{}
	for _, item := range list.Content {
		e, err := parseAllowEntry(item)
		if err != nil {
			return nil, err
		}
		a.Entries = append(a.Entries, e)
	}
	return a, nil
}

func parseAllowEntry(n *yaml.Node) (AllowEntry, error) {
	e := AllowEntry{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return e, fmt.Errorf("line %d: an entry must be a mapping {code, campaign, scenario, reason}", n.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return e, fmt.Errorf("line %d: key %q given twice", k.Line, k.Value)
		}
		seen[k.Value] = true
		if v.Kind != yaml.ScalarNode {
			return e, fmt.Errorf("line %d: %s must be a string", v.Line, k.Value)
		}
		switch k.Value {
		case "code":
			e.Code = strings.TrimSpace(v.Value)
		case "campaign":
			e.Campaign = strings.TrimSpace(v.Value)
		case "scenario":
			e.Scenario = strings.TrimSpace(v.Value)
		case "reason":
			e.Reason = strings.TrimSpace(v.Value)
		default:
			return e, fmt.Errorf("line %d: unknown key %q (known: code, campaign, scenario, reason)", k.Line, k.Value)
		}
	}
	if e.Code == "" {
		return e, fmt.Errorf("line %d: entry has no code", n.Line)
	}
	if e.Reason == "" {
		return e, fmt.Errorf("line %d: entry for %s has no reason: say why the deviation is accepted", n.Line, e.Code)
	}
	for _, g := range []string{e.Code, e.Campaign, e.Scenario} {
		if _, err := path.Match(g, ""); err != nil {
			return e, fmt.Errorf("line %d: bad pattern %q: %w", n.Line, g, err)
		}
	}
	// A code pattern must name a family at least ("token.*"): a bare "*"
	// would turn every failure into an allowed deviation.
	if fam, _, ok := strings.Cut(e.Code, "."); !ok || strings.ContainsAny(fam, "*?[") {
		return e, fmt.Errorf("line %d: code %q is too broad: name a code or a family such as \"token.*\"", n.Line, e.Code)
	}
	known := false
	for _, c := range finding.Codes() {
		if ok, _ := path.Match(e.Code, string(c)); ok {
			known = true
			break
		}
	}
	if !known {
		return e, fmt.Errorf("line %d: %q matches no finding code (qualcert codes lists them)", n.Line, e.Code)
	}
	return e, nil
}

// Apply marks the findings the list allows (Finding.Allowed = reason of the
// first matching entry) and records the entries that matched nothing as
// stale, on r. Call it before Finalize. A nil list allows nothing.
func (a *AllowList) Apply(r *Report) {
	if a == nil {
		return
	}
	names := scenarioIndex(r)
	used := make([]bool, len(a.Entries))
	a.mu.Lock()
	for j := range a.used {
		used[j] = true
	}
	a.mu.Unlock()
	for i := range r.Findings {
		f := &r.Findings[i]
		var name, id string
		if s := names[f.Scenario]; s != nil {
			name, id = s.Name, s.ID
		}
		for j, e := range a.Entries {
			if e.matches(*f, name, id) {
				used[j] = true
				if f.Allowed == "" {
					f.Allowed = e.Reason
				}
			}
		}
	}
	AllowConsequences(r.Findings)
	// An entry that matched nothing is stale, and fails the run, unless
	// the run was filtered by tags: then the scenarios it is about may
	// simply not have run.
	r.StaleAllowances, r.UnexercisedAllowances = nil, nil
	for j, e := range a.Entries {
		switch {
		case used[j]:
		case r.TagFilter != "" || r.Partial:
			r.UnexercisedAllowances = append(r.UnexercisedAllowances, e)
		default:
			r.StaleAllowances = append(r.StaleAllowances, e)
		}
	}
}

// scenarioIndex maps the values a Finding.Scenario may hold (a scenario's id
// or its name) to the scenario.
func scenarioIndex(r *Report) map[string]*Scenario {
	m := map[string]*Scenario{}
	for i := range r.Scenarios {
		s := &r.Scenarios[i]
		if _, dup := m[s.Name]; !dup {
			m[s.Name] = s
		}
	}
	for i := range r.Scenarios {
		if s := &r.Scenarios[i]; s.ID != "" {
			m[s.ID] = s // an id wins over a name
		}
	}
	return m
}

// AllowConsequences allows a finding whose cause (Finding.CausedBy, on the
// same scenario or page load and campaign) is allowed: the deviation was
// accepted, and so is what it leads to (CONTRACT §3: a run whose every
// must-level finding is allowed passes).
func AllowConsequences(fs []finding.Finding) {
	for i := range fs {
		f := &fs[i]
		if f.CausedBy == "" || f.Allowed != "" {
			continue
		}
		for _, c := range fs {
			if c.Code == f.CausedBy && c.Scenario == f.Scenario && c.PageLoad == f.PageLoad &&
				(c.Campaign == f.Campaign || c.Campaign == "") && c.Allowed != "" {
				f.Allowed = fmt.Sprintf("caused by %s, allowed: %s", c.Code, c.Allowed)
				break
			}
		}
	}
}
