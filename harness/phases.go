package harness

import "time"

// Phases is where a Run's time went, measured from the start of Run: the
// set-up before navigation (verifier, tab, cookies or login), the page's
// flow until the settle loop decided, and the evidence and judgement after.
// The benchmarks report them (BenchmarkPageLoad); no verdict reads them.
type Phases struct {
	Setup    time.Duration `json:"setup"`    // verifier, session (context, tab, interception, scripts), throttle, login
	Flow     time.Duration `json:"flow"`     // navigation until the settle loop decided (or the deadline)
	Evidence time.Duration `json:"evidence"` // masking and screenshots
	Judge    time.Duration `json:"judge"`    // the judgement
}
