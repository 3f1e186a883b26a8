package judge

import (
	"fmt"
	"mime"
	"strings"

	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/observe"
	"github.com/qualcert/qualcert/harness/timeline"
)

// Broken reports whether what the run saw already rules a verdict out, and
// why: the scenario's own navigation got an answer that is no page
// (PROTOCOL.md, "When a run ends"). A page URL that answers 204 or 205, a
// download (Content-Disposition: attachment), or a successful answer that
// is not HTML (a PDF, a JSON API) has no document to host a campaign: the
// run ends at once, broken with env.page_not_html, instead of waiting its
// timeout. An HTTP error status (4xx, 5xx) with whatever body is a page
// that answered: it is judged (kit.missing), not broken.
//
// Only the first answer of the top frame after the scenario's navigation
// counts: a page that later sends the reader to a download is still a page.
func Broken(o Observation) (finding.Code, string) {
	for _, e := range o.Events {
		if e.Event != timeline.PageResponse || e.TMs < o.NavStart {
			continue
		}
		if why := notAPage(observe.Decode[observe.ResponseData](e)); why != "" {
			return finding.EnvPageNotHTML, why
		}
		return "", ""
	}
	return "", ""
}

// notAPage says why an answer is no page, or "".
func notAPage(d observe.ResponseData) string {
	where := d.URL
	if where == "" {
		where = "the page URL"
	}
	if disp, _, err := mime.ParseMediaType(d.Disposition); err == nil && disp == "attachment" ||
		err != nil && strings.HasPrefix(strings.ToLower(strings.TrimSpace(d.Disposition)), "attachment") {
		return fmt.Sprintf("%s answered HTTP %d with Content-Disposition: attachment: the browser downloads it instead of showing a page", where, d.Status)
	}
	switch d.Status {
	case 204:
		return fmt.Sprintf("%s answered HTTP 204 No Content: there is no page to load", where)
	case 205:
		return fmt.Sprintf("%s answered HTTP 205 Reset Content: there is no page to load", where)
	}
	if d.Status/100 != 2 {
		return ""
	}
	mt := strings.ToLower(strings.TrimSpace(d.MIMEType))
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = strings.TrimSpace(mt[:i])
	}
	switch mt {
	case "text/html", "application/xhtml+xml":
		return ""
	case "":
		mt = "no content type"
	}
	return fmt.Sprintf("%s answered HTTP %d with %s, not an HTML page", where, d.Status, mt)
}
