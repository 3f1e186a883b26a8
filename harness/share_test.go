package harness

import (
	"strings"
	"testing"

	"github.com/qualcert/qualcert/harness/profile"
)

// Two profiles share a launched browser only when it would be confined the
// same way for each: the same hosts blocked, the same blocked page hosts let
// through. A remote browser or a grid is shared by all.
func TestShareKey(t *testing.T) {
	site := func(page string, campaignHosts ...string) *profile.Profile {
		p := &profile.Profile{Page: profile.Page{URL: page}}
		for _, h := range campaignHosts {
			p.Campaigns = append(p.Campaigns, profile.Campaign{DivID: "d", Host: h})
		}
		return p
	}
	a := site("http://127.0.0.2:8080/contest", "jeux.media.test")
	b := site("https://www.other.test/", "JEUX.media.test:443")
	twoHosts := site("http://127.0.0.3/", "jeux.media.test", "concours.media.test")
	onCampaignHost := site("https://jeux.media.test/landing", "jeux.media.test")
	onQualifio := site("https://media.qualifio.com/page", "jeux.media.test")
	local := Options{}
	for _, tc := range []struct {
		name  string
		opt   Options
		x, y  *profile.Profile
		share bool
	}{
		{"same campaign hosts, other pages", local, a, b, true},
		{"one more campaign host", local, a, twoHosts, false},
		{"a page on the other's campaign host", local, a, onCampaignHost, false},
		{"a page on a Qualifio domain", local, a, onQualifio, false},
		{"live kit: Qualifio's hosts not blocked, campaign hosts neither", Options{LiveKit: true}, a, onQualifio, true},
		{"remote endpoint", Options{BrowserURL: "ws://127.0.0.1:9222/x"}, a, onCampaignHost, true},
		{"grid", Options{Grid: "http://127.0.0.1:4444"}, a, twoHosts, true},
	} {
		kx, ky := ShareKey(tc.opt, tc.x), ShareKey(tc.opt, tc.y)
		if (kx == ky) != tc.share {
			t.Errorf("%s: keys %q and %q, share %v, want %v", tc.name, kx, ky, kx == ky, tc.share)
		}
	}
	// the shared browser's options hold both profiles' hosts, once
	opt := ConfineAll(local, a, b)
	if strings.Join(opt.Confine, ",") != "jeux.media.test" || strings.Join(opt.Reach, ",") != "127.0.0.2,www.other.test" {
		t.Errorf("ConfineAll: confine %q, reach %q", opt.Confine, opt.Reach)
	}
}
