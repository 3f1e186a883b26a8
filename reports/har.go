package reports

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/chromedp/cdproto/har"

	"github.com/qualcert/qualcert/harness/finding"
)

// HARMediaType is the media type of a page load's HAR attachment.
const HARMediaType = "application/har+json"

// HAR comments: the creator's comment says whether the capture was
// redacted (evidence only: a replay needs the raw token) or revealed.
const (
	HARRedacted = "qualcert:redacted: evidence only, this HAR cannot be replayed: tokens and participant values are replaced by fingerprints (record with qualcert run --har --reveal to replay it)"
	HARRevealed = "qualcert:revealed: this HAR holds raw tokens and participant values (qualcert run --har --reveal): handle it as a secret"
)

// IsRedactedHAR reports whether h was written by qualcert without --reveal.
func IsRedactedHAR(h *har.HAR) bool {
	return h != nil && h.Log != nil && h.Log.Creator != nil && strings.HasPrefix(h.Log.Creator.Comment, "qualcert:redacted")
}

// credentialHeaders carry credentials whatever the run noted: their values
// are replaced whole in a redacted HAR.
var credentialHeaders = map[string]bool{"authorization": true, "cookie": true, "set-cookie": true, "proxy-authorization": true}

// MarshalHAR renders a page load's HAR 1.2 log: unless reveal, every
// string that can carry a token or a participant value (URLs, query
// strings, headers, cookies, request and response bodies) is scrubbed like
// every report (finding.RedactText, with every value the run noted) and
// credential headers are replaced whole. h is not modified. Response
// bodies are written as text when they are UTF-8, else base64.
func MarshalHAR(h *har.HAR, tool string, reveal bool) ([]byte, error) {
	if h == nil || h.Log == nil {
		return nil, fmt.Errorf("writing the HAR: no log")
	}
	red := finding.RedactText
	if reveal {
		red = func(s string) string { return s }
	}
	pairs := func(in []*har.NameValuePair, headers bool) []*har.NameValuePair {
		out := make([]*har.NameValuePair, 0, len(in))
		for _, p := range in {
			q := *p
			if headers && !reveal && credentialHeaders[strings.ToLower(q.Name)] {
				q.Value = "[redacted " + finding.Fingerprint(q.Value) + "]"
			} else {
				q.Value = red(q.Value)
			}
			out = append(out, &q)
		}
		return out
	}
	cookies := func(in []*har.Cookie) []*har.Cookie {
		out := make([]*har.Cookie, 0, len(in))
		for _, c := range in {
			d := *c
			if !reveal {
				d.Value = "[redacted " + finding.Fingerprint(d.Value) + "]"
			}
			out = append(out, &d)
		}
		return out
	}
	log := *h.Log
	log.Creator = &har.Creator{Name: "qualcert", Version: tool, Comment: HARRedacted}
	if reveal {
		log.Creator.Comment = HARRevealed
	}
	log.Pages = nil
	for _, p := range h.Log.Pages {
		q := *p
		q.Title = red(q.Title)
		log.Pages = append(log.Pages, &q)
	}
	type content struct {
		Size     int64  `json:"size"`
		MimeType string `json:"mimeType"`
		Text     string `json:"text,omitempty"`
		Encoding string `json:"encoding,omitempty"`
		Comment  string `json:"comment,omitempty"`
	}
	texts := map[int]content{} // entry index → its content, written after
	log.Entries = make([]*har.Entry, 0, len(h.Log.Entries))
	for i, e := range h.Log.Entries {
		f := *e
		if e.Request != nil {
			req := *e.Request
			req.URL = red(req.URL)
			req.Headers, req.QueryString, req.Cookies = pairs(req.Headers, true), pairs(req.QueryString, false), cookies(req.Cookies)
			if req.PostData != nil {
				pd := *req.PostData
				pd.Text = red(pd.Text)
				pd.Params = nil
				for _, pp := range req.PostData.Params {
					qq := *pp
					qq.Value = red(qq.Value)
					pd.Params = append(pd.Params, &qq)
				}
				if pd.Params == nil {
					pd.Params = []*har.Param{}
				}
				req.PostData = &pd
			}
			f.Request = &req
		}
		if e.Response != nil {
			res := *e.Response
			res.Headers, res.Cookies = pairs(res.Headers, true), cookies(res.Cookies)
			res.RedirectURL = red(res.RedirectURL)
			if c := e.Response.Content; c != nil {
				out := content{Size: c.Size, MimeType: c.MimeType, Comment: c.Comment}
				switch {
				case len(c.Text) == 0:
				case utf8.Valid(c.Text):
					out.Text = red(string(c.Text))
				default:
					out.Text, out.Encoding = base64.StdEncoding.EncodeToString(c.Text), "base64"
				}
				texts[i] = out
			}
			res.Content = &har.Content{}
			f.Response = &res
		}
		log.Entries = append(log.Entries, &f)
	}
	// har.Content has no JSON encoder of its own (its Text is bytes):
	// write each content as HAR says, text or base64 with its encoding.
	raw, err := json.Marshal(&har.HAR{Log: &log})
	if err != nil {
		return nil, fmt.Errorf("writing the HAR: %w", err)
	}
	var doc struct {
		Log map[string]json.RawMessage `json:"log"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("writing the HAR: %w", err)
	}
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(doc.Log["entries"], &entries); err != nil {
		return nil, fmt.Errorf("writing the HAR: %w", err)
	}
	for i, e := range entries {
		c, ok := texts[i]
		if !ok {
			continue
		}
		var res map[string]json.RawMessage
		if err := json.Unmarshal(e["response"], &res); err != nil {
			return nil, fmt.Errorf("writing the HAR: %w", err)
		}
		if res["content"], err = json.Marshal(c); err != nil {
			return nil, fmt.Errorf("writing the HAR: %w", err)
		}
		if e["response"], err = json.Marshal(res); err != nil {
			return nil, fmt.Errorf("writing the HAR: %w", err)
		}
	}
	if doc.Log["entries"], err = json.Marshal(entries); err != nil {
		return nil, fmt.Errorf("writing the HAR: %w", err)
	}
	return json.MarshalIndent(doc, "", "  ")
}
