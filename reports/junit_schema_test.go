package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// A structural check of junit.xml against the rules of the Jenkins JUnit
// schema (the junit-10.xsd that Jenkins' JUnit plugin documents, a superset
// of Ant's JUnit.xsd; GitLab and the GitHub test reporters read the same
// shape), written as
// data because Go's standard library has no XSD validator. For each element:
// the attributes allowed (and which are required, with their XSD types), and
// the child elements in sequence order with their cardinality; text is only
// allowed in mixed-content elements. On top of the XSD we check Ant's
// stricter rules that matter to parsers: at most one failure or error per
// testcase, and a timestamp without time zone.

type xsdChild struct {
	name     string
	min, max int // max -1 = unbounded
}

type xsdElement struct {
	attrs    map[string]string // name → type: string, int, decimal, datetime
	required []string
	children []xsdChild
	mixed    bool
}

var junitXSD = map[string]xsdElement{
	"testsuites": {
		attrs:    map[string]string{"name": "string", "time": "decimal", "tests": "int", "failures": "int", "disabled": "int", "errors": "int"},
		children: []xsdChild{{"testsuite", 0, -1}},
	},
	"testsuite": {
		attrs: map[string]string{"name": "string", "tests": "int", "failures": "int", "errors": "int", "time": "decimal",
			"disabled": "int", "skipped": "int", "timestamp": "datetime", "hostname": "string", "id": "string",
			"package": "string", "file": "string", "log": "string", "url": "string", "version": "string"},
		required: []string{"name", "tests"},
		children: []xsdChild{{"properties", 0, 1}, {"testcase", 0, -1}, {"system-out", 0, 1}, {"system-err", 0, 1}},
	},
	"properties": {children: []xsdChild{{"property", 1, -1}}},
	"property":   {attrs: map[string]string{"name": "string", "value": "string"}, required: []string{"name", "value"}},
	"testcase": {
		attrs:    map[string]string{"name": "string", "assertions": "string", "time": "decimal", "classname": "string", "status": "string", "class": "string", "file": "string", "line": "string"},
		required: []string{"name"},
		children: []xsdChild{{"skipped", 0, 1}, {"error", 0, -1}, {"failure", 0, -1}, {"system-out", 0, -1}, {"system-err", 0, -1}},
	},
	"skipped":    {attrs: map[string]string{"message": "string"}, mixed: true},
	"error":      {attrs: map[string]string{"message": "string", "type": "string"}, mixed: true},
	"failure":    {attrs: map[string]string{"message": "string", "type": "string"}, mixed: true},
	"system-out": {mixed: true},
	"system-err": {mixed: true},
}

var (
	xsdInt      = regexp.MustCompile(`^[+-]?[0-9]+$`)
	xsdDecimal  = regexp.MustCompile(`^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)
	antDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`)
)

type xmlNode struct {
	name     string
	attrs    []xml.Attr
	children []*xmlNode
	text     string
	path     string
}

func parseXMLTree(r io.Reader) (*xmlNode, error) {
	dec := xml.NewDecoder(r)
	var stack []*xmlNode
	var root *xmlNode
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xmlNode{name: t.Name.Local, attrs: t.Attr}
			if t.Name.Space != "" {
				return nil, fmt.Errorf("element %s has a namespace %q", t.Name.Local, t.Name.Space)
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("more than one root element")
				}
				root = n
				n.path = n.name
			} else {
				p := stack[len(stack)-1]
				n.path = fmt.Sprintf("%s/%s[%d]", p.path, n.name, len(p.children))
				p.children = append(p.children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// checkJUnitSchema returns every violation of the rules above.
func checkJUnitSchema(r io.Reader) []string {
	root, err := parseXMLTree(r)
	if err != nil {
		return []string{"not well-formed XML: " + err.Error()}
	}
	var errs []string
	if root.name != "testsuites" && root.name != "testsuite" {
		errs = append(errs, "root element is "+root.name)
	}
	var walk func(n *xmlNode)
	walk = func(n *xmlNode) {
		el, ok := junitXSD[n.name]
		if !ok {
			errs = append(errs, n.path+": unknown element")
			return
		}
		have := map[string]string{}
		for _, a := range n.attrs {
			typ, ok := el.attrs[a.Name.Local]
			if !ok || a.Name.Space != "" {
				errs = append(errs, fmt.Sprintf("%s: attribute %q not allowed", n.path, a.Name.Local))
				continue
			}
			have[a.Name.Local] = a.Value
			switch {
			case typ == "int" && !xsdInt.MatchString(a.Value),
				typ == "decimal" && !xsdDecimal.MatchString(a.Value),
				typ == "datetime" && !antDateTime.MatchString(a.Value):
				errs = append(errs, fmt.Sprintf("%s: attribute %s=%q is not an xs:%s", n.path, a.Name.Local, a.Value, typ))
			}
		}
		for _, req := range el.required {
			if _, ok := have[req]; !ok {
				errs = append(errs, fmt.Sprintf("%s: required attribute %q missing", n.path, req))
			}
		}
		if !el.mixed && strings.TrimSpace(n.text) != "" {
			errs = append(errs, n.path+": text not allowed")
		}
		// sequence with cardinalities
		i := 0
		for _, c := range el.children {
			count := 0
			for i < len(n.children) && n.children[i].name == c.name {
				count++
				i++
			}
			if count < c.min {
				errs = append(errs, fmt.Sprintf("%s: needs at least %d <%s>", n.path, c.min, c.name))
			}
			if c.max >= 0 && count > c.max {
				errs = append(errs, fmt.Sprintf("%s: at most %d <%s>, found %d", n.path, c.max, c.name, count))
			}
		}
		if i < len(n.children) {
			errs = append(errs, fmt.Sprintf("%s: <%s> not allowed here (order: %v)", n.path, n.children[i].name, el.children))
		}
		if n.name == "testcase" {
			fe := 0
			for _, c := range n.children {
				if c.name == "failure" || c.name == "error" {
					fe++
				}
			}
			if fe > 1 {
				errs = append(errs, n.path+": more than one failure/error (Ant's schema allows one)")
			}
		}
		for _, c := range n.children {
			walk(c)
		}
	}
	walk(root)
	return errs
}
