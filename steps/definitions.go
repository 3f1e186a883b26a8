package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cucumber/godog"

	"github.com/qualcert/qualcert/harness"
	"github.com/qualcert/qualcert/harness/finding"
	"github.com/qualcert/qualcert/harness/profile"
	"github.com/qualcert/qualcert/harness/timeline"
)

// stepDef is one step definition: the pattern a step's text must match
// (whatever its keyword: Given, When, Then, And, But), its function, and
// what `qualcert steps` and docs/steps.md say of it.
type stepDef struct {
	kind    string // Given, When or Then: where the step belongs
	pattern string
	fn      any
	example string         // a sentence the pattern matches ("" = the pattern itself)
	asserts string         // what the step does or asserts, in a publisher's words
	codes   []finding.Code // the finding codes the step asserts on
}

// none is a Then step that passes when the page load has none of codes:
// failure says what went wrong, asserts what holds when it passes.
func none(pattern, asserts, failure string, codes ...finding.Code) stepDef {
	return stepDef{kind: "Then", pattern: pattern, fn: noFinding(failure, codes...), asserts: asserts, codes: codes}
}

// noneInToken is none for the token's checks: a token must have arrived.
func noneInToken(pattern, asserts, failure string, codes ...finding.Code) stepDef {
	return stepDef{kind: "Then", pattern: pattern, fn: noTokenFinding(failure, codes...), asserts: asserts, codes: codes}
}

// definitions lists every step of the suites; a publisher's own feature
// files use the same sentences. Each definition reads its scenario from ctx.
func definitions() []stepDef {
	return []stepDef{
		// Given: which page, which participant, which conditions.
		{kind: "Given", pattern: `^the publisher page of the profile$`, fn: givenProfile,
			asserts: "Chooses the page of the run's profile (qualcert run --profile FILE) as the page to open."},
		{kind: "Given", pattern: `^the demo variant "([^"]*)"$`, fn: givenDemoVariant, example: `the demo variant "jws-inline"`,
			asserts: "Chooses a variant of the embedded demo publisher (reference suite only; qualcert demo lists them)."},
		{kind: "Given", pattern: `^a logged-in participant$`, fn: givenLoggedIn,
			asserts: "Opens the page with the profile's session cookies or scripted login (the default)."},
		{kind: "Given", pattern: `^a visitor who is not logged in$`, fn: givenLoggedOut,
			asserts: "Opens the page without cookies or login."},
		{kind: "Given", pattern: `^the participant uses a slow phone on a slow network$`, fn: givenSlowPhone,
			asserts: "Emulates a mid-range phone on a slow 3G network for the page load: CPU 4x slower, 400 ms latency, 400 kbps each way."},
		{kind: "Given", pattern: `^the campaign reports the error "([^"]*)" whatever the token$`, fn: givenFault, example: `the campaign reports the error "token.expired" whatever the token`,
			asserts: "Makes the reference campaign report this finding code to the page whatever the token, to see how the page reacts. The code must be one of qualcert codes."},
		{kind: "Given", pattern: `^the profile has several campaigns$`, fn: givenSeveralCampaigns,
			asserts: "Skips the scenario unless the profile lists two campaigns or more."},

		// When: the page load (memoized per conditions).
		{kind: "When", pattern: `^the participant opens the page$`, fn: whenOpens,
			asserts: "Loads the page in headless Chromium with the reference kit and campaign, and waits until every campaign settled. Scenarios with the same conditions share one page load. A page that cannot be reached makes the scenario broken (no verdict)."},

		// Then: the tag.
		none(`^the Qualifio kit is loaded$`, "The page loads the Qualifio kit (qualp*.js) and runs it, and embeds its campaigns through it (not as plain iframes).",
			"the Qualifio kit is not loaded", finding.KitMissing, finding.CampaignIframeHTML),
		{kind: "Then", pattern: `^every campaign of the profile gets its iframe$`, fn: thenIframes,
			asserts: "createIframe is called for every campaign of the profile, and the page does not stop the iframe it creates.", codes: []finding.Code{finding.CampaignNotCreated, finding.CampaignBlockedByPage}},
		none(`^every campaign's div is on the page$`, "The div each createIframe names is present in the page.",
			"a campaign's div is not on the page", finding.CampaignDivMissing),
		none(`^every campaign is created with the host of the profile$`, "createIframe is given the campaign host of the profile.",
			"a campaign is created with another host than the profile's", finding.CampaignHostMismatch),
		none(`^every campaign host is a CNAME of the page's site$`, "Each campaign host is under the page's registrable domain (a CNAME of the publisher's site).",
			"a campaign host is not on the page's site", finding.CampaignNotCNAME, finding.CampaignCNAMEUnchecked),
		none(`^the page is not a Qualifio mini-site$`, "The page is the publisher's own, not served from a Qualifio host.",
			"the page is a Qualifio mini-site", finding.CampaignMinisite),
		none(`^the page lets the campaign talk to the kit$`, "The page neither stops the campaign's messages to the kit nor interferes with what observes them.",
			"the page interfered with the campaign's messages or with the harness", finding.PageHarnessTampered),

		// Then: setMetaData.
		{kind: "Then", pattern: `^every campaign receives its token before it asks for metadata$`, fn: thenOnTime,
			asserts: "Each campaign's first setMetaData comes before the campaign's getMetaData (a margin under 200 ms is a warning).",
			codes:   []finding.Code{finding.SetMetaDataMissing, finding.SetMetaDataLate, finding.SetMetaDataRace, finding.SetMetaDataDivIDUnknown}},
		{kind: "Then", pattern: `^the report shows the margin between setMetaData and getMetaData$`, fn: thenMargins,
			asserts: "Records, per campaign, how long before getMetaData the token arrived (setmetadata.margin on the timeline); fails when it cannot be measured.",
			codes:   []finding.Code{finding.SetMetaDataMissing, finding.CampaignNotCreated, finding.KitMissing}},
		{kind: "Then", pattern: `^setMetaData names the type 'JWT' and the campaign's div id$`, fn: thenArguments,
			asserts: "setMetaData is called as _qual_async.push(['setMetaData', 'JWT', token, divId]) with a string token and the div id as a string.",
			codes: []finding.Code{finding.SetMetaDataBadType, finding.SetMetaDataDivIDUnknown, finding.SetMetaDataDivIDMissing,
				finding.SetMetaDataDivIDNotString, finding.SetMetaDataTokenNotString}},
		{kind: "Then", pattern: `^each campaign receives its own token with its own campaignId$`, fn: thenOwnTokens,
			asserts: "With several campaigns, each gets a distinct token whose campaignId is its own (skipped with one campaign).",
			codes: []finding.Code{finding.SetMetaDataMissing, finding.SetMetaDataDivIDMissing, finding.SetMetaDataDivIDUnknown,
				finding.TokenCampaignMismatch, finding.TokenCampaignIDMissing, finding.TokenCampaignIDNotString}},

		// Then: the token.
		{kind: "Then", pattern: `^the token is signed \(JWS\) with an allowed algorithm and a known key$`, fn: thenJWS,
			asserts: "The token's signature verifies with a key of the profile and an algorithm it allows (skipped for direct JWE).",
			codes: []finding.Code{finding.TokenMissing, finding.TokenMalformed, finding.TokenTooLarge, finding.TokenAlgForbidden,
				finding.TokenKeyUnknown, finding.TokenSignatureInvalid, finding.TokenTypInvalid, finding.TokenDuplicateMember, finding.TokenSecretShort}},
		{kind: "Then", pattern: `^the token is encrypted \(JWE\) and the campaign can decrypt it$`, fn: thenJWE,
			asserts: "The JWE decrypts with the profile's decryption_key_file and is authenticated (skipped for a JWS publisher).",
			codes: []finding.Code{finding.TokenMissing, finding.TokenMalformed, finding.TokenTooLarge, finding.TokenAlgForbidden,
				finding.TokenDecryptFailed, finding.TokenJWEUnauthenticated, finding.TokenKeyUnknown, finding.TokenSignatureInvalid, finding.TokenDuplicateMember}},
		noneInToken(`^the token's issuer, audience, subject and campaignId are as expected$`, "iss, aud, sub and campaignId are present and match the profile.",
			"the token's claims are not as the profile expects", finding.TokenIssMismatch, finding.TokenAudMismatch, finding.TokenSubMissing,
			finding.TokenCampaignIDMissing, finding.TokenCampaignIDNotString, finding.TokenCampaignMismatch),
		noneInToken(`^the token is within its lifetime$`, "exp, nbf and iat make the token valid now, with a lifetime within token.max_lifetime.",
			"the token is not within its lifetime", finding.TokenExpired, finding.TokenNotYetValid, finding.TokenIATFuture,
			finding.TokenExpBeforeIAT, finding.TokenExpMissing, finding.TokenLifetimeTooLong),
		{kind: "Then", pattern: `^the campaign received a signed token \(JWS\)$`, fn: thenReceivedJWS,
			asserts: "Every campaign received a compact JWS (not a JWE)."},
		{kind: "Then", pattern: `^the campaign received an encrypted token \(JWE\)$`, fn: thenReceivedJWE,
			asserts: "Every campaign received a JWE (direct or nested)."},

		// Then: participant data.
		{kind: "Then", pattern: `^the token carries the participant's data inline$`, fn: thenInline,
			asserts: "The token carries the participant's fields (token.fields_claim) with every required field valid (skipped for access-token publishers).",
			codes:   []finding.Code{finding.TokenModeAmbiguous, finding.PIIFieldMissing, finding.PIIFieldInvalid, finding.PIIUnknownField}},
		{kind: "Then", pattern: `^the token carries an access token$`, fn: thenAccessToken,
			asserts: "The token carries an access token (token.access_token_claim) for the user-info webservice (skipped for inline publishers).",
			codes:   []finding.Code{finding.TokenModeAmbiguous}},
		{kind: "Then", pattern: `^the user-info webservice returns the participant's data$`, fn: thenUserInfo,
			asserts: "The user-info webservice, called with the access token, answers in time with the required fields.",
			codes: []finding.Code{finding.UserInfoUnreachable, finding.UserInfoTimeout, finding.UserInfoStatus, finding.UserInfoBadResponse,
				finding.UserInfoSlow, finding.UserInfoNotChecked, finding.PIIFieldMissing, finding.PIIFieldInvalid, finding.PIIUnknownField}},
		{kind: "Then", pattern: `^the participant sees the identification form prefilled$`, fn: thenPrefilled,
			asserts: "Every campaign ends on the prefilled identification form, not on the blocked spinner.",
			codes:   []finding.Code{finding.CampaignBlocked}},

		// Then: unhappy flows and security.
		{kind: "Then", pattern: `^the campaign shows the blocked spinner$`, fn: thenBlocked,
			asserts: "Every campaign ends on the blocked spinner (as it must for a bad or missing token).",
			codes:   []finding.Code{finding.CampaignBlocked}},
		{kind: "Then", pattern: `^the page received an error message naming "([^"]*)"$`, fn: thenErrorMessage, example: `the page received an error message naming "token.expired"`,
			asserts: "The campaign's error message to the page names this finding code."},
		{kind: "Then", pattern: `^the page reacts to the error$`, fn: thenReacts,
			asserts: "The page shows a reaction to the campaign's error message (a message, a login prompt, a new token).",
			codes:   []finding.Code{finding.PageErrorUnhandled}},
		{kind: "Then", pattern: `^the page reacts with a new setMetaData$`, fn: thenReactsWithSetMetaData,
			asserts: "The page answers the campaign's error message with a fresh setMetaData.",
			codes:   []finding.Code{finding.PageErrorUnhandled}},
		none(`^the visitor is not left on the blocked spinner$`, "A visitor who is not logged in is asked to log in (or sees no campaign) instead of being left on the spinner.",
			"a visitor who is not logged in is left on the spinner", finding.PageLoggedOutBlocked),
		none(`^the token does not leak to other hosts or to the console$`, "The token (or its payload) appears in no request to another host than the campaign host, and not in the console; requests that went unseen (a flood) are said.",
			"the token leaks out of the page", finding.TokenLeaked, finding.TokenLeakUnchecked),

		// Then: the run as a whole (reference suite).
		{kind: "Then", pattern: `^the run reports "([^"]*)"$`, fn: thenReports, example: `the run reports "setmetadata.late"`,
			asserts: "The page load has a finding with this code (the step claims it for the scenario)."},
		{kind: "Then", pattern: `^the run reports exactly the variant's expected findings$`, fn: thenReportsExactly,
			asserts: "The must and should findings are exactly the demo variant's expected codes (reference suite)."},
		{kind: "Then", pattern: `^the verdict is "(passed|failed)"$`, fn: thenVerdict, example: `the verdict is "failed"`,
			asserts: "The page load's verdict: failed when it has a must finding, else passed."},
	}
}

// register binds the definitions to a scenario.
func register(sc *godog.ScenarioContext) {
	for _, d := range definitions() {
		sc.Step(d.pattern, d.fn)
	}
}

// ---- Given ----

func givenProfile(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if s.run.cfg.Profile == nil {
		return errors.New("this run has no publisher profile (give one with qualcert run --profile FILE)")
	}
	s.profile = s.run.cfg.Profile
	s.cond.profileKey = "profile"
	return nil
}

func givenDemoVariant(ctx context.Context, slug string) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	d := s.run.cfg.Demo
	if d == nil {
		return errors.New("this run has no demo publisher: the reference suite runs with steps.Config.Demo set")
	}
	var slugs []string
	for _, v := range d.Variants() {
		slugs = append(slugs, v.Slug)
		if v.Slug == slug {
			p, err := d.Profile(slug)
			if err != nil {
				return fmt.Errorf("profile of demo variant %q: %w", slug, err)
			}
			s.profile, s.variant, s.reference = p, &v, true
			s.cond = conditions{profileKey: "demo:" + slug, loggedOut: v.LoggedOut, fault: v.Fault}
			return nil
		}
	}
	return fmt.Errorf("the demo has no variant %q (it has: %s)", slug, strings.Join(slugs, ", "))
}

func givenLoggedIn(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	s.cond.loggedOut = false
	return nil
}

func givenLoggedOut(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	s.cond.loggedOut = true
	return nil
}

func givenSlowPhone(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	t := harness.SlowPhone
	s.cond.throttle = &t
	return nil
}

func givenFault(ctx context.Context, code string) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if _, ok := finding.Lookup(finding.Code(code)); !ok {
		return fmt.Errorf("%q is not a finding code qualcert knows (qualcert codes lists them, e.g. token.expired)", code)
	}
	s.cond.fault = finding.Code(code)
	return nil
}

func givenSeveralCampaigns(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if s.profile == nil {
		return errors.New("no page chosen: start with \"Given the publisher page of the profile\"")
	}
	if n := len(s.profile.Campaigns); n < 2 {
		return s.notApplicable("the profile has %d campaign: the several-campaigns flow (one token per divId) does not apply", n)
	}
	return nil
}

// ---- When ----

func whenOpens(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if s.profile == nil {
		return errors.New("no page chosen: start with \"Given the publisher page of the profile\"")
	}
	sc := harness.Scenario{
		Name:      s.meta.name,
		Profile:   s.profile,
		Fault:     s.cond.fault,
		Throttle:  s.cond.throttle,
		LoggedOut: s.cond.loggedOut,
		At:        s.run.cfg.At,
	}
	if sh := s.run.cfg.Shard; sh != nil {
		if owner := ShardOf(sh.Site, s.cond.key(), sh.Count); owner != sh.Index {
			s.inShard = owner
			if s.cond.fault == "" && !s.cond.loggedOut {
				s.run.observer.notePlainElsewhere(s.cond.profileKey)
			}
			return &skipError{reason: fmt.Sprintf("runs in shard %d/%d (its page load, %s, is in that slice)", owner, sh.Count, s.cond.key())}
		}
	}
	obs, shared, err := s.run.observer.observe(ctx, s.meta.id, s.cond, sc)
	if err != nil {
		s.broken = true
		return err
	}
	s.obs, s.shared = obs, shared
	if obs.err != nil {
		s.broken = true
		if obs.res != nil {
			s.claim(obs.res.Findings...)
		}
		return fmt.Errorf("the page could not be observed (no verdict): %w", obs.err)
	}
	return nil
}

// ---- Then: the tag ----

// noTokenFinding is noFinding for the token's checks: it first requires that
// the campaigns received a token at all (else there is nothing to judge).
func noTokenFinding(failure string, codes ...finding.Code) func(context.Context) error {
	return func(ctx context.Context) error {
		s, err := current(ctx)
		if err != nil {
			return err
		}
		if _, err := s.readTokens(); err != nil {
			return err
		}
		return s.check(failure, codes...)
	}
}

// noFinding is a Then step that passes when the scenario's observation has
// none of codes; failure says what went wrong in the publisher's words.
func noFinding(failure string, codes ...finding.Code) func(context.Context) error {
	return func(ctx context.Context) error {
		s, err := current(ctx)
		if err != nil {
			return err
		}
		return s.check(failure, codes...)
	}
}

func thenIframes(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if err := s.check("a campaign of the profile got no iframe", finding.CampaignNotCreated, finding.CampaignBlockedByPage); err != nil {
		return err
	}
	res, _ := s.result()
	var missing []string
	for _, c := range s.profile.Campaigns {
		if rc, ok := campaignResult(res, c.DivID); !ok || !rc.Created {
			missing = append(missing, c.DivID)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("no createIframe for %s", strings.Join(missing, ", "))
	}
	return nil
}

// ---- Then: setMetaData ----

func thenOnTime(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	return s.check("a campaign asked for metadata before it had its token",
		finding.SetMetaDataMissing, finding.SetMetaDataLate, finding.SetMetaDataRace, finding.SetMetaDataDivIDUnknown)
}

func thenMargins(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	var unmeasured []string
	for _, c := range s.profile.Campaigns {
		rc, ok := campaignResult(res, c.DivID)
		if !ok || rc.SetMetaDataMs < 0 || rc.GetMetaDataMs < 0 {
			unmeasured = append(unmeasured, c.DivID)
			continue
		}
		s.note(rc.GetMetaDataMs, "setmetadata.margin", c.DivID, map[string]any{
			"set_metadata_ms": rc.SetMetaDataMs, "get_metadata_ms": rc.GetMetaDataMs, "margin_ms": rc.MarginMs,
		})
	}
	if len(unmeasured) > 0 {
		return s.failWith("no margin can be measured for "+strings.Join(unmeasured, ", ")+" (no setMetaData, or the campaign never asked for metadata)",
			finding.SetMetaDataMissing, finding.CampaignNotCreated, finding.KitMissing)
	}
	return nil
}

func thenArguments(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	return s.check("setMetaData is not called as _qual_async.push(['setMetaData', 'JWT', token, divId])",
		finding.SetMetaDataBadType, finding.SetMetaDataDivIDUnknown, finding.SetMetaDataDivIDMissing,
		finding.SetMetaDataDivIDNotString, finding.SetMetaDataTokenNotString)
}

func thenOwnTokens(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if n := len(s.profile.Campaigns); n < 2 {
		return s.notApplicable("the profile has %d campaign: the several-campaigns flow does not apply", n)
	}
	if err := s.check("a campaign did not receive its own token",
		finding.SetMetaDataMissing, finding.SetMetaDataDivIDMissing, finding.SetMetaDataDivIDUnknown,
		finding.TokenCampaignMismatch, finding.TokenCampaignIDMissing, finding.TokenCampaignIDNotString); err != nil {
		return err
	}
	res, _ := s.result()
	seen := map[string]string{}
	for _, c := range s.profile.Campaigns {
		rc, ok := campaignResult(res, c.DivID)
		if !ok || rc.Token == nil {
			return s.failWith("campaign "+c.DivID+" received no token", finding.SetMetaDataMissing)
		}
		if other, dup := seen[rc.Token.Fingerprint]; dup {
			return fmt.Errorf("campaigns %s and %s received the same token (%s): each campaign needs a token with its own campaignId", other, c.DivID, rc.Token.Fingerprint)
		}
		seen[rc.Token.Fingerprint] = c.DivID
	}
	return nil
}

// ---- Then: the token ----

// tokenCampaigns returns the campaigns that received a token, or fails
// naming why none did: a token check that saw no token proves nothing.
func (s *scenario) tokenCampaigns() ([]harness.Campaign, error) {
	res, err := s.result()
	if err != nil {
		return nil, err
	}
	var out []harness.Campaign
	for _, c := range res.Campaigns {
		if c.Token != nil {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		// What kept the token from the campaigns (setmetadata.late: it came
		// after the campaign had given up) is the finding to fix; the token
		// checks were not reached.
		fs := s.loadFindings()
		errorCode := map[string]string{}
		for _, c := range res.Campaigns {
			errorCode[c.DivID] = c.ErrorCode
		}
		for _, c := range s.profile.Campaigns {
			if cause := causeOf(fs, c.DivID, errorCode[c.DivID]); cause != nil {
				return nil, s.blockedError("no campaign had a token to check when it asked for one", *cause)
			}
		}
		return nil, s.failWith("no campaign received a token", finding.SetMetaDataMissing, finding.TokenMissing,
			finding.SetMetaDataDivIDUnknown, finding.CampaignNotCreated, finding.KitMissing)
	}
	return out, nil
}

// readTokens is tokenCampaigns for the steps that judge what a token says
// (its claims, its participant data, its access token): a token the
// verifier refused before reading its claims (token.signature_invalid,
// token.alg_forbidden, token.missing…) says nothing those steps could
// check, so they are "not reached", blocked by the finding that refused it,
// instead of passing on claims never judged or failing on their own words.
func (s *scenario) readTokens() ([]harness.Campaign, error) {
	cs, err := s.tokenCampaigns()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Token.Claims != nil || c.Token.RedactedClaims != nil {
			continue
		}
		what := "the token of campaign " + c.DivID + " was refused before its claims were read"
		if cause := causeOf(s.loadFindings(), c.DivID, c.ErrorCode); cause != nil {
			return nil, s.blockedError(what, *cause)
		}
		return nil, s.failWith(what, finding.TokenMissing, finding.TokenMalformed, finding.TokenSignatureInvalid,
			finding.TokenDecryptFailed, finding.TokenAlgForbidden)
	}
	return cs, nil
}

func formats(cs []harness.Campaign) []string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.Token.Format) {
			out = append(out, c.Token.Format)
		}
	}
	return out
}

func thenJWS(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	cs, err := s.tokenCampaigns()
	if err != nil {
		return err
	}
	if f := formats(cs); len(f) == 1 && f[0] == "jwe" {
		return s.notApplicable("the page sends tokens encrypted with a shared key (direct JWE): there is no signature to check")
	}
	return s.check("the token's signature cannot be trusted",
		finding.TokenMissing, finding.TokenMalformed, finding.TokenTooLarge, finding.TokenAlgForbidden,
		finding.TokenKeyUnknown, finding.TokenSignatureInvalid, finding.TokenTypInvalid, finding.TokenDuplicateMember, finding.TokenSecretShort)
}

func thenJWE(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if s.profile.Token.DecryptionKeyFile == "" {
		return s.notApplicable("the profile has no token.decryption_key_file: the publisher sends signed tokens (JWS)")
	}
	cs, err := s.tokenCampaigns()
	if err != nil {
		return err
	}
	if f := formats(cs); len(f) == 1 && f[0] == "jws" {
		return s.notApplicable("the page sends signed tokens (JWS), not encrypted ones")
	}
	return s.check("the encrypted token cannot be decrypted or is not authenticated",
		finding.TokenMissing, finding.TokenMalformed, finding.TokenTooLarge, finding.TokenAlgForbidden,
		finding.TokenDecryptFailed, finding.TokenJWEUnauthenticated, finding.TokenKeyUnknown, finding.TokenSignatureInvalid, finding.TokenDuplicateMember)
}

func thenReceivedJWS(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	cs, err := s.tokenCampaigns()
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Token.Format != "jws" {
			return fmt.Errorf("campaign %s received a %q token, not a signed JWS", c.DivID, c.Token.Format)
		}
	}
	return nil
}

func thenReceivedJWE(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	cs, err := s.tokenCampaigns()
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.Token.Format != "jwe" && c.Token.Format != "nested" {
			return fmt.Errorf("campaign %s received a %q token, not an encrypted JWE", c.DivID, c.Token.Format)
		}
	}
	return nil
}

// ---- Then: participant data ----

// modes returns the token modes the campaigns saw ("inline", "access_token").
func modes(cs []harness.Campaign) []string {
	var out []string
	for _, c := range cs {
		if c.Token.Mode != "" && !slices.Contains(out, c.Token.Mode) {
			out = append(out, c.Token.Mode)
		}
	}
	return out
}

func thenInline(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if s.profile.Token.Mode == profile.ModeAccessToken {
		return s.notApplicable("the profile's token.mode is access_token: participant data come from the user-info webservice")
	}
	cs, err := s.readTokens()
	if err != nil {
		return err
	}
	if m := modes(cs); len(m) == 1 && m[0] == profile.ModeAccessToken {
		return s.notApplicable("the page's tokens carry an access token, not the participant's data")
	}
	if err := s.check("the token does not carry the participant's data as the profile expects",
		finding.TokenModeAmbiguous, finding.PIIFieldMissing, finding.PIIFieldInvalid, finding.PIIUnknownField); err != nil {
		return err
	}
	for _, c := range cs {
		if c.Token.Mode != profile.ModeInline {
			return s.failWith(fmt.Sprintf("campaign %s received a token without inline participant data (mode %q)", c.DivID, c.Token.Mode),
				finding.TokenMalformed, finding.TokenSignatureInvalid, finding.TokenDecryptFailed, finding.TokenAlgForbidden)
		}
	}
	return nil
}

func thenAccessToken(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if s.profile.Token.Mode == profile.ModeInline {
		return s.notApplicable("the profile's token.mode is inline: the token carries the participant's data, no user-info call is made")
	}
	cs, err := s.readTokens()
	if err != nil {
		return err
	}
	if m := modes(cs); len(m) == 1 && m[0] == profile.ModeInline {
		return s.notApplicable("the page's tokens carry the participant's data inline: the access-token flow does not apply")
	}
	if err := s.check("the token does not carry an access token as the profile expects", finding.TokenModeAmbiguous); err != nil {
		return err
	}
	for _, c := range cs {
		if c.Token.Mode != profile.ModeAccessToken {
			return s.failWith(fmt.Sprintf("campaign %s received a token without an access token (mode %q)", c.DivID, c.Token.Mode),
				finding.TokenMalformed, finding.TokenSignatureInvalid, finding.TokenDecryptFailed, finding.TokenAlgForbidden)
		}
	}
	return nil
}

func thenUserInfo(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	cs, err := s.readTokens()
	if err != nil {
		return err
	}
	if err := s.check("the user-info webservice did not return the participant's data",
		finding.UserInfoUnreachable, finding.UserInfoTimeout, finding.UserInfoStatus, finding.UserInfoBadResponse,
		finding.UserInfoSlow, finding.UserInfoNotChecked, finding.PIIFieldMissing, finding.PIIFieldInvalid, finding.PIIUnknownField); err != nil {
		return err
	}
	for _, c := range cs {
		if c.Token.UserInfo == nil {
			return s.failWith("campaign "+c.DivID+" did not call the user-info webservice",
				finding.TokenModeAmbiguous, finding.TokenMalformed, finding.TokenSignatureInvalid, finding.TokenExpired)
		}
	}
	return nil
}

func thenPrefilled(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	var blocked []string
	var causes []finding.Code
	fs := s.loadFindings()
	for _, c := range s.profile.Campaigns {
		rc, ok := campaignResult(res, c.DivID)
		if ok && rc.Outcome == harness.OutcomePrefilled {
			continue
		}
		// An allowed campaign.blocked (or one caused by an allowed
		// finding) is an accepted deviation: claimed, not failed.
		accepted := false
		for _, f := range fs {
			if f.Code == finding.CampaignBlocked && f.Campaign == c.DivID {
				s.claim(f)
				accepted = accepted || f.Allowed != ""
				if f.CausedBy != "" {
					causes = append(causes, f.CausedBy)
				}
			}
		}
		if accepted {
			continue
		}
		what := c.DivID + " (" + outcomeOf(rc, ok) + ")"
		blocked = append(blocked, what)
		if ok && rc.ErrorCode != "" {
			causes = append(causes, finding.Code(rc.ErrorCode))
		}
	}
	if len(blocked) == 0 {
		return nil
	}
	codes := append([]finding.Code{finding.CampaignBlocked}, causes...)
	return s.failWith("the participant does not see the prefilled form: "+strings.Join(blocked, ", "), codes...)
}

func outcomeOf(rc harness.Campaign, ok bool) string {
	switch {
	case !ok:
		return "not on the page"
	case rc.Outcome == harness.OutcomeBlocked && rc.ErrorCode != "":
		return "blocked: " + rc.ErrorCode
	case rc.Outcome == "":
		return "no outcome"
	}
	return rc.Outcome
}

// ---- Then: unhappy flows and security ----

func thenBlocked(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	for _, c := range s.profile.Campaigns {
		rc, ok := campaignResult(res, c.DivID)
		if !ok || rc.Outcome != harness.OutcomeBlocked {
			return fmt.Errorf("campaign %s is not on the blocked spinner (%s)", c.DivID, outcomeOf(rc, ok))
		}
	}
	s.claim(s.findings(finding.CampaignBlocked)...)
	return nil
}

func thenErrorMessage(ctx context.Context, code string) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	var got []string
	for _, c := range res.Campaigns {
		if c.ErrorCode == code {
			return nil
		}
		if c.ErrorCode != "" {
			got = append(got, c.ErrorCode)
		}
	}
	for _, e := range res.Timeline {
		if e.Event == timeline.ErrorMessage {
			if v, _ := e.Data["code"].(string); v == code {
				return nil
			}
		}
	}
	if len(got) == 0 {
		return fmt.Errorf("the page received no error message from the campaign (expected one naming %q)", code)
	}
	return fmt.Errorf("the page received error messages naming %s, not %q", strings.Join(got, ", "), code)
}

func thenReacts(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if _, err := s.result(); err != nil {
		return err
	}
	return s.check("the page did not react to the campaign's error message", finding.PageErrorUnhandled)
}

func thenReactsWithSetMetaData(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	for _, c := range res.Campaigns {
		if c.PageReaction == "setMetaData" {
			return nil
		}
	}
	return s.failWith("the page did not hand over a new token after the campaign's error message", finding.PageErrorUnhandled)
}

// ---- Then: the run as a whole ----

func thenReports(ctx context.Context, code string) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	fs := s.findings(finding.Code(code))
	if len(fs) == 0 {
		return fmt.Errorf("the run does not report %q; it reports: %s", code, codeList(res.Findings, true))
	}
	s.claim(fs...)
	return nil
}

func thenReportsExactly(ctx context.Context) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	if s.variant == nil {
		return errors.New("this step compares with a demo variant: start with Given the demo variant \"…\"")
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	s.claim(res.Findings...)
	var want []string
	for _, c := range s.variant.Expect {
		if spec, ok := finding.Lookup(c); ok && spec.Level != finding.Info && !slices.Contains(want, string(c)) {
			want = append(want, string(c))
		}
	}
	sort.Strings(want)
	got := strings.Split(codeList(res.Findings, false), ", ")
	if len(got) == 1 && got[0] == "" {
		got = nil
	}
	if slices.Equal(want, got) {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "variant %q: expected the must/should findings [%s], got [%s]", s.variant.Slug, strings.Join(want, ", "), strings.Join(got, ", "))
	for _, f := range res.Findings {
		if f.Level != finding.Info && !slices.Contains(want, string(f.Code)) {
			fmt.Fprintf(&b, "\n  unexpected %s [%s]: %s", f.Code, f.Level, f.Message)
		}
	}
	return errors.New(b.String())
}

func thenVerdict(ctx context.Context, want string) error {
	s, err := current(ctx)
	if err != nil {
		return err
	}
	res, err := s.result()
	if err != nil {
		return err
	}
	got := "passed"
	if finding.HasMust(res.Findings) {
		got = "failed"
	}
	if got != want {
		return fmt.Errorf("the verdict is %s, not %s; must/should findings: %s", got, want, codeList(res.Findings, false))
	}
	return nil
}

// codeList lists the distinct codes of fs, sorted; info-level ones only
// when withInfo.
func codeList(fs []finding.Finding, withInfo bool) string {
	var out []string
	for _, f := range fs {
		if (withInfo || f.Level != finding.Info) && !slices.Contains(out, string(f.Code)) {
			out = append(out, string(f.Code))
		}
	}
	sort.Strings(out)
	if len(out) == 0 && withInfo {
		return "no finding"
	}
	return strings.Join(out, ", ")
}

func campaignResult(res *harness.Result, divID string) (harness.Campaign, bool) {
	for _, c := range res.Campaigns {
		if c.DivID == divID {
			return c, true
		}
	}
	return harness.Campaign{}, false
}
