package profile

import (
	"fmt"
	"os"
)

// ResolveEnv reads the environment variables the profile names (the
// value_env of login fill steps), so that a missing one is an error of the
// profile, naming the variable and its line, before any browser starts.
// Load does not read them: `qualcert verify --profile` needs no password.
func (p *Profile) ResolveEnv() error {
	if p.Page.Login == nil {
		return nil
	}
	for _, s := range p.Page.Login.Steps {
		f := s.Fill
		if f == nil || f.ValueEnv == "" {
			continue
		}
		v, ok := os.LookupEnv(f.ValueEnv)
		if !ok {
			e := Error{File: p.file, Msg: fmt.Sprintf("environment variable %s is not set (it holds the value typed into %q)", f.ValueEnv, f.Selector)}
			if f.envAt != nil {
				e.Line, e.Key = f.envAt.Line, f.envAt.Key
			}
			return &e
		}
		f.resolved = &v
	}
	return nil
}
