package demo

import (
	"fmt"
	"os"

	"gopkg.in/yaml.v3"
)

// ProfileYAML returns the profile of variant slug as a YAML document that
// profile.Load reads back to the same profile. It carries the demo's session
// cookie and the paths of its temporary keys, so it is valid only while this
// server runs.
func (s *Server) ProfileYAML(slug string) ([]byte, error) {
	p, err := s.Profile(slug)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := doc.Encode(p); err != nil {
		return nil, fmt.Errorf("encoding the demo profile %s: %w", slug, err)
	}
	prune(&doc)
	doc.HeadComment = fmt.Sprintf("qualcert profile of the Demo Media variant %q, served at %s.\n"+
		"Valid while that demo server runs: the session cookie and the key files are its own.", slug, s.URL)
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, fmt.Errorf("encoding the demo profile %s: %w", slug, err)
	}
	return out, nil
}

// WriteProfile writes the profile of variant slug to path (YAML), for
// `qualcert run --profile` and for documentation.
func (s *Server) WriteProfile(slug, path string) error {
	data, err := s.ProfileYAML(slug)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("writing the demo profile: %w", err)
	}
	return nil
}

// prune drops the keys whose value is null, an empty string, an empty list
// or an empty mapping, so the written profile shows only what is set.
func prune(n *yaml.Node) {
	for _, c := range n.Content {
		prune(c)
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	kept := n.Content[:0]
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		empty := (v.Kind == yaml.ScalarNode && (v.Tag == "!!null" || (v.Tag == "!!str" && v.Value == ""))) ||
			((v.Kind == yaml.SequenceNode || v.Kind == yaml.MappingNode) && len(v.Content) == 0)
		if !empty {
			kept = append(kept, k, v)
		}
	}
	n.Content = kept
}
