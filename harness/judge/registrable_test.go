package judge

import "testing"

func TestRegistrableUsesThePublicSuffixList(t *testing.T) {
	cases := []struct{ host, want string }{
		{"www.example.com", "example.com"},
		{"jeux.example.com", "example.com"},
		{"www.example.co.uk", "example.co.uk"},
		{"jeux.news.example.com.au", "example.com.au"},
		{"myshop.github.io", "myshop.github.io"}, // a private suffix: github.io is not one site
		{"WWW.Example.COM.", "example.com"},
		{"com", "com"},
	}
	for _, c := range cases {
		if got := registrable(c.host); got != c.want {
			t.Errorf("registrable(%q) = %q, want %q", c.host, got, c.want)
		}
	}
	if underDomain("jeux.myshop.github.io", registrable("other.github.io")) {
		t.Error("two github.io sites were taken for one")
	}
	if !underDomain("jeux.example.co.uk", registrable("www.example.co.uk")) {
		t.Error("a CNAME under example.co.uk was refused")
	}
}
