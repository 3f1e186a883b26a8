package reports

import (
	"path/filepath"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/timeline"
)

// Redaction is done upstream: the verifier fingerprints claim values and
// the recorder is fed field names, never values. The writers add a second,
// independent line of defence so that one careless producer cannot leak a
// participant's token into a CI log. Unless the run was revealed:
//
//   - token claim values that are strings and not already fingerprints
//     ("hmac:…", keyed with the run's key; see finding.Fingerprint) are replaced by their fingerprint (numbers and booleans,
//     such as exp and iat, are kept: they are dates, not identities), but
//     for iss, aud and campaignId with the shape of a name
//     (finding.PublicClaim);
//   - timeline data values under token-ish or participant-field keys (token,
//     jwt, access_token, authorization, cookie, password, value, email,
//     firstname… see secretKeys) are fingerprinted;
//   - in every free-text string of the report (messages, hints, step errors,
//     timeline data, tags, names), every token and participant value seen
//     anywhere in the run (finding.NoteSecret: plain, upper-case,
//     URL-encoded, base64) and anything shaped like a JWT, a JWT segment
//     (base64url JSON, "eyJ…", "eyA…") or an e-mail address is replaced by
//     "[redacted hmac:…]" (finding.RedactText);
//   - JOSE headers keep alg, enc, typ, cty, zip, kid and crit readable and
//     fingerprint every other member (finding.RedactHeader).

var secretKeys = map[string]bool{
	"token": true, "jwt": true, "access_token": true, "id_token": true, "refresh_token": true,
	"authorization": true, "cookie": true, "password": true, "value": true, "values": true, "raw": true,
	// participant fields, should a producer record one with its value
	"email": true, "firstname": true, "lastname": true, "birthday": true, "phone": true, "zip_code": true,
}

// redactValue walks a JSON-like value; every string leaf is fingerprinted
// when secret, otherwise scrubbed with redactText.
func redactValue(v any, secret bool) any {
	switch x := v.(type) {
	case string:
		if secret {
			if finding.IsFingerprint(x) {
				return x
			}
			return finding.Fingerprint(x)
		}
		return finding.RedactText(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redactValue(e, secret || secretKeys[strings.ToLower(k)])
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, secret)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, secret)
		}
		return out
	default:
		return v
	}
}

// redactClaims fingerprints every claim value but the public ones
// (finding.PublicClaim: iss, aud, campaignId with the shape of a name).
func redactClaims(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if finding.PublicClaim(k, v) {
			out[k] = v
			continue
		}
		out[k] = redactValue(v, true)
	}
	return out
}

func redactMap(m map[string]any, secret bool) map[string]any {
	if m == nil {
		return nil
	}
	return redactValue(m, secret).(map[string]any)
}

// forOutput returns a deep copy of r that the writers can use: nil slices
// become empty ones (report.json has arrays, never null) and, unless reveal
// or r.Revealed, everything is redacted as described above.
func (r *Report) forOutput(reveal bool) *Report {
	reveal = reveal || r.Revealed
	c := *r
	c.Revealed = reveal
	if !reveal {
		c.Fingerprints = finding.FingerprintNote
	}
	if c.Schema == "" {
		c.Schema = SchemaID
	}
	txt := func(s string) string {
		if reveal {
			return s
		}
		return finding.RedactText(s)
	}
	c.Profile.Name = txt(c.Profile.Name)
	c.Profile.PageURL = txt(c.Profile.PageURL)
	if len(r.Sites) > 0 {
		c.Sites = make([]Site, len(r.Sites))
		for i, st := range r.Sites {
			st.Name, st.PageURL, st.Profile, st.PartialReason = txt(st.Name), txt(st.PageURL), txt(st.Profile), txt(st.PartialReason)
			c.Sites[i] = st
		}
	}
	events := func(in []timeline.Event) []timeline.Event {
		out := make([]timeline.Event, len(in))
		for j, e := range in {
			ne := timeline.Event{TMs: e.TMs, Source: e.Source, Event: e.Event, Campaign: txt(e.Campaign), Data: e.Data}
			if !reveal {
				ne.Data = redactMap(e.Data, false)
			}
			out[j] = ne
		}
		return out
	}
	// an attachment path that leaves the report dir is a producer bug: it
	// is neither embedded nor listed
	attachments := func(in []Attachment) []Attachment {
		out := []Attachment{}
		for _, a := range in {
			if p := filepath.FromSlash(a.Path); a.Path != "" && filepath.IsLocal(p) {
				a.Name, a.Step = txt(a.Name), txt(a.Step)
				out = append(out, a)
			}
		}
		return out
	}
	c.Findings = make([]finding.Finding, len(r.Findings))
	for i, f := range r.Findings {
		f.Message, f.Hint, f.Allowed = txt(f.Message), txt(f.Hint), txt(f.Allowed)
		f.PageLoad = txt(f.PageLoad)
		f.Scenario, f.Campaign = txt(f.Scenario), txt(f.Campaign)
		c.Findings[i] = f
	}
	c.StaleAllowances = append([]AllowEntry(nil), r.StaleAllowances...)
	for i := range c.StaleAllowances {
		e := &c.StaleAllowances[i]
		e.Reason, e.Scenario, e.Campaign = txt(e.Reason), txt(e.Scenario), txt(e.Campaign)
	}
	c.Scenarios = make([]Scenario, len(r.Scenarios))
	for i, s := range r.Scenarios {
		s.Name, s.Feature, s.ID, s.SkipReason = txt(s.Name), txt(s.Feature), txt(s.ID), txt(s.SkipReason)
		tags := make([]string, len(s.Tags))
		for j, t := range s.Tags {
			tags[j] = txt(t)
		}
		s.Tags = tags
		steps := make([]Step, len(s.Steps))
		for j, st := range s.Steps {
			st.Text, st.Error = txt(st.Text), txt(st.Error)
			steps[j] = st
		}
		s.Steps = steps
		s.PageLoad, s.BlockedBy = txt(s.PageLoad), txt(s.BlockedBy)
		s.FeatureTags = append([]string(nil), s.FeatureTags...)
		s.Timeline = events(s.Timeline)
		s.Attachments = attachments(r.Scenarios[i].Attachments)
		if s.Tokens != nil {
			tokens := make([]TokenView, len(s.Tokens))
			for j, t := range s.Tokens {
				if !reveal {
					t.Header = finding.RedactHeader(t.Header)
					t.InnerHeader = finding.RedactHeader(t.InnerHeader)
					t.Claims = redactClaims(t.Claims)
				}
				t.Fields = append([]string(nil), t.Fields...)
				tokens[j] = t
			}
			s.Tokens = tokens
		}
		c.Scenarios[i] = s
	}
	c.PartialReason = txt(c.PartialReason)
	c.PageLoads = nil
	for _, pl := range r.PageLoads {
		pl.ID, pl.Conditions = txt(pl.ID), txt(pl.Conditions)
		ids := make([]string, len(pl.Scenarios))
		for j, id := range pl.Scenarios {
			ids[j] = txt(id)
		}
		pl.Scenarios = ids
		pl.Timeline = events(pl.Timeline)
		pl.Attachments = attachments(pl.Attachments)
		c.PageLoads = append(c.PageLoads, pl)
	}
	return &c
}
