package browser

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/cdproto/har"
	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/proto"
)

// Bounds of what a session's HAR keeps (SessionConfig.HAR): a page that
// loads without end must not exhaust memory.
const (
	maxHAREntries  = 5000
	maxHARBody     = 8 << 20
	maxHARBodySum  = 256 << 20
	harHTTPVersion = "HTTP/1.1"
)

// harLog builds a HAR 1.2 log of a session's requests from CDP Network
// events: request, response headers and, once loaded, the response body
// (Network.getResponseBody).
type harLog struct {
	mu      sync.Mutex
	byID    map[string]*harEntry
	entries []*harEntry
	bodies  int // bytes of bodies kept
	dropped int // entries past maxHAREntries
	page    *har.Page
}

type harEntry struct {
	e       *har.Entry
	started float64 // CDP monotonic timestamp of the request, seconds
}

func harKey(p *rod.Page, id proto.NetworkRequestID) string {
	return string(p.SessionID) + "/" + string(id)
}

func harHeaders(h proto.NetworkHeaders) []*har.NameValuePair {
	out := make([]*har.NameValuePair, 0, len(h))
	for k, v := range h {
		for _, line := range strings.Split(v.Str(), "\n") {
			out = append(out, &har.NameValuePair{Name: k, Value: line})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func harHeader(h proto.NetworkHeaders, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v.Str()
		}
	}
	return ""
}

func harQuery(raw string) []*har.NameValuePair {
	out := []*har.NameValuePair{}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	for k, vs := range u.Query() {
		for _, v := range vs {
			out = append(out, &har.NameValuePair{Name: k, Value: v})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// harEvent records a Network event of page p, when the session keeps a HAR.
func (s *Session) harEvent(p *rod.Page, msg *rod.Message) {
	l := &s.har
	switch msg.Method {
	case (proto.NetworkRequestWillBeSent{}).ProtoEvent():
		var e proto.NetworkRequestWillBeSent
		if !msg.Load(&e) || e.Request == nil || !strings.HasPrefix(e.Request.URL, "http") {
			return
		}
		if s.cfg.HARSkip != nil && s.cfg.HARSkip(e.Request.URL) {
			return
		}
		key := harKey(p, e.RequestID)
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.byID == nil {
			l.byID = map[string]*harEntry{}
		}
		if prev, ok := l.byID[key]; ok && e.RedirectResponse != nil {
			prev.e.Response = harResponse(e.RedirectResponse)
			prev.e.Time = (float64(e.Timestamp) - prev.started) * 1000
		}
		if len(l.entries) >= maxHAREntries {
			l.dropped++
			return
		}
		started := e.WallTime.Time()
		if e.WallTime == 0 {
			started = time.Now()
		}
		req := &har.Request{Method: e.Request.Method, URL: e.Request.URL, HTTPVersion: harHTTPVersion,
			Cookies: []*har.Cookie{}, Headers: harHeaders(e.Request.Headers), QueryString: harQuery(e.Request.URL),
			HeadersSize: -1, BodySize: 0}
		if body := postData(e.Request); body != "" || e.Request.HasPostData {
			req.PostData = &har.PostData{MimeType: harHeader(e.Request.Headers, "Content-Type"), Params: []*har.Param{}, Text: body}
			req.BodySize = int64(len(body))
		}
		ent := &harEntry{started: float64(e.Timestamp), e: &har.Entry{Pageref: "page_1",
			StartedDateTime: started.UTC().Format(time.RFC3339Nano), Request: req,
			Response: &har.Response{Status: 0, Cookies: []*har.Cookie{}, Headers: []*har.NameValuePair{},
				Content: &har.Content{MimeType: "x-unknown"}, HeadersSize: -1, BodySize: -1, HTTPVersion: harHTTPVersion},
			Cache: &har.Cache{}, Timings: &har.Timings{Send: 0, Wait: 0, Receive: 0}}}
		if l.page == nil && p == s.page && e.Type == proto.NetworkResourceTypeDocument {
			l.page = &har.Page{ID: "page_1", StartedDateTime: ent.e.StartedDateTime, Title: e.Request.URL, PageTimings: &har.PageTimings{}}
		}
		l.byID[key] = ent
		l.entries = append(l.entries, ent)
		if e.Request.HasPostData && req.PostData.Text == "" {
			s.goFlight(func() {
				c, cancel := bounded(s.ctx)
				defer cancel()
				if res, err := (proto.NetworkGetRequestPostData{RequestID: e.RequestID}).Call(p.Context(c)); err == nil {
					l.mu.Lock()
					req.PostData.Text, req.BodySize = res.PostData, int64(len(res.PostData))
					l.mu.Unlock()
				}
			})
		}
	case (proto.NetworkResponseReceived{}).ProtoEvent():
		var e proto.NetworkResponseReceived
		if !msg.Load(&e) || e.Response == nil {
			return
		}
		l.mu.Lock()
		if ent, ok := l.byID[harKey(p, e.RequestID)]; ok {
			ent.e.Response = harResponse(e.Response)
			ent.e.Time = (float64(e.Timestamp) - ent.started) * 1000
			ent.e.Timings.Wait = ent.e.Time
		}
		l.mu.Unlock()
	case (proto.NetworkLoadingFinished{}).ProtoEvent():
		var e proto.NetworkLoadingFinished
		if !msg.Load(&e) {
			return
		}
		l.mu.Lock()
		ent, ok := l.byID[harKey(p, e.RequestID)]
		l.mu.Unlock()
		if !ok {
			return
		}
		s.goFlight(func() {
			c, cancel := bounded(s.ctx)
			defer cancel()
			res, err := (proto.NetworkGetResponseBody{RequestID: e.RequestID}).Call(p.Context(c))
			l.mu.Lock()
			defer l.mu.Unlock()
			if err != nil {
				ent.e.Response.Content.Comment = "body not available: " + err.Error()
				return
			}
			body := []byte(res.Body)
			if res.Base64Encoded {
				if body, err = base64.StdEncoding.DecodeString(res.Body); err != nil {
					ent.e.Response.Content.Comment = "body not decodable: " + err.Error()
					return
				}
			}
			ent.e.Response.Content.Size = int64(len(body))
			if len(body) > maxHARBody || l.bodies+len(body) > maxHARBodySum {
				ent.e.Response.Content.Comment = "body left out: over qualcert's bounds"
				return
			}
			l.bodies += len(body)
			ent.e.Response.Content.Text = body
			ent.e.Response.BodySize = int64(e.EncodedDataLength)
		})
	case (proto.NetworkLoadingFailed{}).ProtoEvent():
		var e proto.NetworkLoadingFailed
		if !msg.Load(&e) {
			return
		}
		l.mu.Lock()
		if ent, ok := l.byID[harKey(p, e.RequestID)]; ok && ent.e.Response.Status == 0 {
			ent.e.Response.Comment = "failed: " + e.ErrorText
			ent.e.Response.StatusText = e.ErrorText
		}
		l.mu.Unlock()
	}
}

func harResponse(r *proto.NetworkResponse) *har.Response {
	v := r.Protocol
	switch v {
	case "h2":
		v = "HTTP/2"
	case "h3":
		v = "HTTP/3"
	case "", "http/1.1":
		v = harHTTPVersion
	}
	return &har.Response{Status: int64(r.Status), StatusText: r.StatusText, HTTPVersion: v, Cookies: []*har.Cookie{},
		Headers: harHeaders(r.Headers), Content: &har.Content{MimeType: r.MIMEType},
		RedirectURL: harHeader(r.Headers, "Location"), HeadersSize: -1, BodySize: -1}
}

// HAR returns the HAR 1.2 log of the session's requests so far (nil when
// SessionConfig.HAR was not set). Response bodies still being read when it
// is called are left out. The log holds raw values: redact it before
// writing it anywhere.
func (s *Session) HAR() *har.HAR {
	if !s.cfg.HAR {
		return nil
	}
	l := &s.har
	l.mu.Lock()
	defer l.mu.Unlock()
	log := &har.Log{Version: "1.2", Creator: &har.Creator{Name: "qualcert"}, Entries: make([]*har.Entry, 0, len(l.entries))}
	if l.page != nil {
		pg := *l.page
		log.Pages = []*har.Page{&pg}
	}
	for _, ent := range l.entries {
		e := *ent.e
		req, res := *e.Request, *e.Response
		content := *res.Content
		res.Content = &content
		if req.PostData != nil {
			pd := *req.PostData
			req.PostData = &pd
		}
		e.Request, e.Response = &req, &res
		log.Entries = append(log.Entries, &e)
	}
	if l.dropped > 0 {
		log.Comment = "qualcert kept the first " + strconv.Itoa(maxHAREntries) + " requests; " + strconv.Itoa(l.dropped) + " more were left out"
	}
	return &har.HAR{Log: log}
}
