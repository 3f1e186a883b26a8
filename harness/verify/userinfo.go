package verify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// The user-info client: what Qualifio does with an access token. It sends
// Authorization: Bearer <token> with the configured method, follows no
// redirect (a webservice that moves must say so in the profile), reads at
// most 1 MiB, and wants a JSON object, the fields living at fields_path.

// User-info limits.
const (
	MaxUserInfoSize = 1 << 20
	UserInfoSlow    = time.Second
)

// callUserInfo exchanges accessToken for the participant's fields. It fills
// r.UserInfo, records a timeline event when opt.Timeline is set, and reports
// userinfo.* findings; ok is false when no fields could be read.
func (v *Verifier) callUserInfo(ctx context.Context, r *Result, accessToken string, opt Options, add func(finding.Finding)) (fields map[string]any, ok bool) {
	add0 := add
	ui := v.cfg.UserInfo
	if v.cfg.UserInfoOffline {
		// a replay: out of reach is "not checked", whatever the reason
		add = func(f finding.Finding) {
			if f.Code == finding.UserInfoUnreachable || f.Code == finding.UserInfoTimeout {
				f = finding.New(finding.UserInfoNotChecked, "%s", f.Message)
			}
			add0(f)
		}
	}
	if ui.URL == "" {
		add(finding.New(finding.UserInfoUnreachable, "the token carries an access token but no userinfo.url is configured"))
		return nil, false
	}
	method := strings.ToUpper(ui.Method)
	if method == "" {
		method = http.MethodGet
	}
	timeout := ui.Timeout.D()
	if timeout <= 0 {
		timeout = profile.DefaultUserInfoTimeout
	}
	call := &UserInfoCall{URL: ui.URL, Method: method}
	r.UserInfo = call
	var code finding.Code
	start := v.now()
	defer func() {
		call.DurationMs = float64(v.now().Sub(start).Microseconds()) / 1000
		if opt.Timeline != nil {
			data := map[string]any{"method": method, "duration_ms": call.DurationMs}
			if call.Status != 0 {
				data["status"] = call.Status
			}
			if code != "" {
				data["code"] = string(code)
			}
			opt.Timeline.Add(timeline.UserInfo, timeline.UserInfoCall, opt.Campaign, data)
		}
	}()
	fail := func(c finding.Code, format string, args ...any) (map[string]any, bool) {
		code = c
		f := finding.New(c, format, args...)
		call.Error = f.Message
		add(f)
		return nil, false
	}

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, ui.URL, nil)
	if err != nil {
		return fail(finding.UserInfoUnreachable, "building the user-info request: %v", err)
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/json")
	client := *v.client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		if isTimeout(err) {
			return fail(finding.UserInfoTimeout, "the user-info webservice did not answer within %s", timeout)
		}
		return fail(finding.UserInfoUnreachable, "calling the user-info webservice: %s", redactURLError(err))
	}
	defer resp.Body.Close()
	call.Status = resp.StatusCode
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxUserInfoSize+1))
	elapsed := v.now().Sub(start)
	if err != nil {
		if isTimeout(err) {
			return fail(finding.UserInfoTimeout, "the user-info answer did not arrive within %s", timeout)
		}
		return fail(finding.UserInfoUnreachable, "reading the user-info answer: %v", err)
	}
	if elapsed > UserInfoSlow {
		add(finding.New(finding.UserInfoSlow, "the user-info webservice took %s", elapsed.Round(time.Millisecond)))
	}
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return fail(finding.UserInfoStatus, "the user-info webservice answered %d, a redirect (to %s); qualcert, like Qualifio, does not follow it", resp.StatusCode, hostOf(resp.Header.Get("Location")))
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return fail(finding.UserInfoStatus, "the user-info webservice answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	if len(body) > MaxUserInfoSize {
		return fail(finding.UserInfoBadResponse, "the user-info answer is over %d bytes", MaxUserInfoSize)
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err != nil {
		trimmed := strings.TrimSpace(string(body))
		if strings.HasPrefix(trimmed, "<") {
			return fail(finding.UserInfoBadResponse, "the user-info answer is HTML (Content-Type %q), not JSON", resp.Header.Get("Content-Type"))
		}
		return fail(finding.UserInfoBadResponse, "the user-info answer is not JSON (Content-Type %q)", resp.Header.Get("Content-Type"))
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return fail(finding.UserInfoBadResponse, "the user-info answer is a JSON %s, not an object", jsonKind(doc))
	}
	if ui.FieldsPath != "" {
		for _, step := range strings.Split(ui.FieldsPath, ".") {
			next, ok := obj[step].(map[string]any)
			if !ok {
				return fail(finding.UserInfoBadResponse, "the user-info answer has no object at %q (fields_path %q)", step, ui.FieldsPath)
			}
			obj = next
		}
	}
	return obj, true
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// redactURLError keeps the cause of a transport error without the URL's
// query (which might carry a value).
func redactURLError(err error) string {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

func hostOf(location string) string {
	if location == "" {
		return "nowhere"
	}
	if i := strings.Index(location, "://"); i >= 0 {
		rest := location[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		return rest
	}
	return "a path on the same host"
}
