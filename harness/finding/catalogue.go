package finding

import "sort"

// Requirement is one sentence of the method, in qualcert's words, that a
// group of codes enforces. Source says where the sentence comes from: the
// Qualifio document "Share information at the campaign load" (doc), the
// public secure-token rules (secure-token), or qualcert's own security and
// environment rules (qualcert).
type Requirement struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Source string `json:"source"`
	Text   string `json:"text"`
}

var requirements = []Requirement{
	{"R-TAG-1", "The JS tag is loaded", "doc", "You have to use the JS tag of the campaign to integrate it in your website: the page loads Qualifio's loader (qualp.2.min.js) and its _qual_async queue."},
	{"R-TAG-2", "Each campaign is created in its div", "doc", "Every embedded campaign is created with createIframe into the div that carries its id, and that div is present in the page."},
	{"R-TAG-3", "The campaign runs on the page's site", "doc", "You have to define a CNAME for the Qualifio website where the campaign is integrated: the campaign host is a subdomain of the page's registrable domain."},
	{"R-TAG-4", "Not a mini-site", "doc", "The method is not compatible with the mini-site channel: the page hosting the campaign is the publisher's, not a Qualifio host."},
	{"R-SETMETADATA-1", "setMetaData is called", "doc", "You have to add the setMetaData method in the pages where campaigns are integrated: _qual_async.push(['setMetaData', 'JWT', yourJWT, divId])."},
	{"R-SETMETADATA-2", "setMetaData comes before getMetaData", "doc", "If setMetaData is not executed in the parent page before Qualifio calls getMetaData, the participant is blocked at the authentication step; it must come first, with a safe margin."},
	{"R-SETMETADATA-3", "The fixed arguments are right", "doc", "'setMetaData' and 'JWT' are fixed values, and yourJWT is the token as a string."},
	{"R-SETMETADATA-4", "divId names the campaign", "doc", "divId is the id of the Qualifio iframe's div; it sends the JWT to the right iframe when several campaigns share the page."},
	{"R-TOKEN-1", "A well-formed token is sent", "doc", "yourJWT is a valid JWT, a JWS (signed) or a JWE (encrypted), of a sane size; an empty token is a missing token."},
	{"R-TOKEN-2", "Signed or encrypted with an agreed key and algorithm", "secure-token", "The token is signed (RS/PS/ES/EdDSA, or HS with a shared secret) or encrypted with a key agreed with Qualifio; an asymmetric JWE must nest a signed JWT; none, RSA1_5 and PBES2 are never accepted."},
	{"R-TOKEN-3", "The token is within its lifetime", "secure-token", "exp is recommended, nbf a few minutes before iat; the token is neither expired nor not yet valid, exp is after iat, and the lifetime is short."},
	{"R-TOKEN-4", "Issuer, audience and type are right", "secure-token", "iss names the publisher, aud (when agreed) names Qualifio, and typ, when present, is JWT."},
	{"R-TOKEN-5", "sub identifies the participant", "secure-token", "sub is mandatory: the participant's id on the publisher side."},
	{"R-TOKEN-6", "campaignId matches the campaign", "secure-token", "campaignId is mandatory, a string, and equal to the id of the campaign being played."},
	{"R-TOKEN-7", "The token carries data or an access token", "doc", "The JWT contains either the participant's data or an access token for the publisher's webservice, as agreed."},
	{"R-PII-1", "The form can be prefilled", "doc", "The fields agreed to prefill the identification form are present, well formed and named as Qualifio's form variables."},
	{"R-USERINFO-1", "The webservice answers with the participant", "doc", "With an access token, Qualifio calls the publisher's webservice, which answers promptly with the participant's information as JSON."},
	{"R-FLOW-1", "The participant reaches the prefilled form", "doc", "The data received allow Qualifio to prefill the identification form, and the participant pursues the journey."},
	{"R-FLOW-2", "The page handles the campaign's error message", "doc", "In case of error Qualifio sends an error message to the parent page; the page should react (a fresh token, a login prompt) rather than leave the participant blocked."},
	{"R-FLOW-3", "Logged-out visitors are not left blocked", "doc", "The method is for spaces of logged-in users: a logged-out visitor should be asked to log in, not left on the spinner."},
	{"R-FLOW-4", "The page lets the campaign talk to the kit", "qualcert", "Qualifio's kit and campaign speak through postMessage: the page must not stop their messages, nor interfere with what observes them. A page that does gets this finding whatever else it did: the verdict is taken from the campaign's side."},
	{"R-SEC-1", "The token does not leak", "qualcert", "The token, a bearer credential for the participant, goes to the campaign only: never to a third party, a URL, a Referer or the console."},
	{"R-ENV-1", "A verdict could be reached", "qualcert", "The browser started, the page was reachable and the scenario ended within its timeout."},
}

// Requirements returns the requirement catalogue in its reading order.
func Requirements() []Requirement {
	return append([]Requirement(nil), requirements...)
}

// RequirementByID returns the requirement with that id.
func RequirementByID(id string) (Requirement, bool) {
	for _, r := range requirements {
		if r.ID == id {
			return r, true
		}
	}
	return Requirement{}, false
}

// CodesOf returns the codes that enforce requirement id, sorted.
func CodesOf(id string) []Code {
	var out []Code
	for c, s := range catalogue {
		if s.Requirement == id {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// The codes of CONTRACT §4. Add freely; never rename.
const (
	KitMissing             Code = "kit.missing"
	CampaignNotCreated     Code = "campaign.not_created"
	CampaignDivMissing     Code = "campaign.div_missing"
	CampaignHostMismatch   Code = "campaign.host_mismatch"
	CampaignNotCNAME       Code = "campaign.not_cname"
	CampaignCNAMEUnchecked Code = "campaign.cname_unchecked"
	CampaignMinisite       Code = "campaign.minisite"

	SetMetaDataMissing        Code = "setmetadata.missing"
	SetMetaDataLate           Code = "setmetadata.late"
	SetMetaDataRace           Code = "setmetadata.race"
	SetMetaDataBadType        Code = "setmetadata.bad_type"
	SetMetaDataDivIDUnknown   Code = "setmetadata.divid_unknown"
	SetMetaDataDivIDMissing   Code = "setmetadata.divid_missing"
	SetMetaDataDivIDNotString Code = "setmetadata.divid_not_string"
	SetMetaDataTokenNotString Code = "setmetadata.token_not_string"

	TokenMissing             Code = "token.missing"
	TokenMalformed           Code = "token.malformed"
	TokenTooLarge            Code = "token.too_large"
	TokenAlgForbidden        Code = "token.alg_forbidden"
	TokenKeyUnknown          Code = "token.key_unknown"
	TokenSignatureInvalid    Code = "token.signature_invalid"
	TokenDecryptFailed       Code = "token.decrypt_failed"
	TokenJWEUnauthenticated  Code = "token.jwe_unauthenticated"
	TokenExpired             Code = "token.expired"
	TokenNotYetValid         Code = "token.not_yet_valid"
	TokenIATFuture           Code = "token.iat_future"
	TokenExpBeforeIAT        Code = "token.exp_before_iat"
	TokenExpMissing          Code = "token.exp_missing"
	TokenLifetimeTooLong     Code = "token.lifetime_too_long"
	TokenIssMismatch         Code = "token.iss_mismatch"
	TokenAudMismatch         Code = "token.aud_mismatch"
	TokenSubMissing          Code = "token.sub_missing"
	TokenCampaignIDMissing   Code = "token.campaign_id_missing"
	TokenCampaignIDNotString Code = "token.campaign_id_not_string"
	TokenCampaignMismatch    Code = "token.campaign_mismatch"
	TokenTypInvalid          Code = "token.typ_invalid"
	TokenModeAmbiguous       Code = "token.mode_ambiguous"

	PIIFieldMissing Code = "pii.field_missing"
	PIIFieldInvalid Code = "pii.field_invalid"
	PIIUnknownField Code = "pii.unknown_field"

	UserInfoUnreachable Code = "userinfo.unreachable"
	UserInfoTimeout     Code = "userinfo.timeout"
	UserInfoStatus      Code = "userinfo.status"
	UserInfoBadResponse Code = "userinfo.bad_response"
	UserInfoSlow        Code = "userinfo.slow"

	CampaignBlocked      Code = "campaign.blocked"
	PageErrorUnhandled   Code = "page.error_unhandled"
	PageLoggedOutBlocked Code = "page.logged_out_blocked"
	PageHarnessTampered  Code = "page.harness_tampered"

	TokenLeaked Code = "token.leaked"
	// TokenLeakUnchecked: requests went unseen (a flood), so a leak cannot
	// be ruled out (added by qualcert, issue 10).
	TokenLeakUnchecked Code = "token.leak_unchecked"

	EnvPageUnreachable Code = "env.page_unreachable"
	EnvBrowser         Code = "env.browser"
	EnvTimeout         Code = "env.timeout"
	// Added by qualcert beyond CONTRACT §4 (codes may be added, never renamed).
	EnvLoginFailed Code = "env.login_failed"
	// EnvKeySource: the profile's key source (jwks_url) could not be
	// fetched: no token can be judged, which is no fault of the token.
	EnvKeySource Code = "env.key_source"
	// EnvInterrupted: the run was cancelled (Ctrl-C, the caller's deadline)
	// before a verdict.
	EnvInterrupted Code = "env.interrupted"
	// EnvReplayMissing: a request of the page that the HAR given to
	// run --replay has no answer to (a note: the page may behave otherwise
	// than when it was captured).
	EnvReplayMissing Code = "env.replay_missing"
	// UserInfoNotChecked: in a replay (run --replay), the profile's
	// user-info webservice could not be reached: the exchange is Qualifio's,
	// absent from any capture, so it was not checked (not a failure, and the
	// run is no certification of R-USERINFO-1).
	UserInfoNotChecked Code = "userinfo.not_checked"
	// CampaignIframeHTML: a plain <iframe> to a Qualifio or campaign host
	// (Qualifio's "Iframe HTML" channel), which cannot receive setMetaData
	// (CONTRACT §6 asks for a code of its own).
	CampaignIframeHTML Code = "campaign.iframe_html"
	// EnvPageNotHTML: the page URL answered with something that is no page
	// (204/205, a download, a PDF, JSON): there is nothing to certify.
	EnvPageNotHTML Code = "env.page_not_html"
	// CampaignBlockedByPage: the page's own policy (CSP, a sandbox) or its
	// scripts (the iframe removed) stopped its campaign from running.
	CampaignBlockedByPage Code = "campaign.blocked_by_page"
)

var catalogue = map[Code]Spec{}

func def(code Code, level Level, req, summary, hint string) {
	if _, dup := catalogue[code]; dup {
		panic("finding: duplicate code " + string(code))
	}
	catalogue[code] = Spec{Code: code, Level: level, Requirement: req, Summary: summary, Hint: hint}
}

func outcome(code Code) {
	s := catalogue[code]
	s.Outcome = true
	catalogue[code] = s
}

// Token codes added by qualcert beyond CONTRACT §4 (its §6 asks for them).
const (
	// TokenDuplicateMember: a name repeated in the JOSE header or the claims.
	TokenDuplicateMember Code = "token.duplicate_member"
	// TokenSecretShort: an HMAC shared secret shorter than its hash.
	TokenSecretShort Code = "token.secret_short"
)

func init() {
	def(KitMissing, Must, "R-TAG-1", "the Qualifio loader never ran on the page",
		"Add Qualifio's JS tag to the page: the loader snippet that inserts https://files.qualifio.com/kit/qualp.2.min.js and defines window._qual_async.")
	def(CampaignNotCreated, Must, "R-TAG-2", "a campaign of the profile got no createIframe",
		"Push ['createIframe', '<div id>', '<campaign host>', …] for this campaign, exactly as in the tag Qualifio gave you, and check that the div id matches the profile.")
	def(CampaignDivMissing, Must, "R-TAG-2", "createIframe names a div that is not in the page",
		"Put <div id='qualifio_insert_place_…'></div> in the page before the tag runs, with the same id as the createIframe call.")
	def(CampaignHostMismatch, Must, "R-TAG-2", "createIframe uses another campaign host than the profile",
		"Use the campaign host agreed with Qualifio (your CNAME, such as jeux.example.com) as the second argument of createIframe, or correct the profile.")
	def(CampaignNotCNAME, Must, "R-TAG-3", "the campaign host is not under the page's registrable domain",
		"Publish the campaign on a CNAME of your own site (jeux.example.com for www.example.com) and use that host in createIframe: cross-site iframes lose the session and the messages.")
	def(CampaignCNAMEUnchecked, Info, "R-TAG-3", "the page runs on an IP address or localhost, so the CNAME rule could not be checked",
		"Run the certification against the page's real host name to check the CNAME rule.")
	def(CampaignIframeHTML, Must, "R-TAG-1", "the campaign is embedded as a plain iframe (Iframe-HTML channel), which cannot receive the participant's identity",
		"Replace the <iframe> by Qualifio's JS tag (the loader snippet, createIframe and setMetaData): the Iframe-HTML channel has no setMetaData, so the participant is never identified.")
	def(CampaignBlockedByPage, Must, "R-TAG-2", "the page itself stopped its campaign: its Content-Security-Policy, a sandbox, or its scripts removing the campaign's iframe",
		"Let the campaign load: allow the campaign host in the CSP's frame-src (and child-src), and files.qualifio.com in script-src; do not put the campaign's div in a sandboxed iframe (or give it allow-scripts allow-same-origin allow-popups allow-forms); do not remove or re-render the div after the kit created its iframe. The message says which of these happened.")
	def(CampaignMinisite, Must, "R-TAG-4", "the page is served from a Qualifio host (mini-site channel)",
		"Identity at campaign load works only with the JS tag on your own page; mini-sites cannot exchange messages with your site. Embed the campaign with the JS tag.")

	def(SetMetaDataMissing, Must, "R-SETMETADATA-1", "the page never called setMetaData for this campaign",
		"Push ['setMetaData', 'JWT', token, '<div id>'] for every campaign on the page, for every logged-in participant.")
	def(SetMetaDataLate, Must, "R-SETMETADATA-2", "setMetaData arrived after the campaign asked for metadata, and the campaign got none",
		"Push setMetaData before (or right after) the createIframe call, with the token rendered into the page or fetched before the tag runs; do not wait for a later event. (Late means after getMetaData by more than the 2 ms the two frames' clocks can resolve, with the campaign answered without metadata.)")
	def(SetMetaDataRace, Should, "R-SETMETADATA-2", "setMetaData won the race by a thin margin, or missed it by less than the measurement resolves, or lost it on a slow device",
		"Make the token available when the page is rendered instead of fetching it asynchronously, so that slow phones and networks do not block participants. (A token within 2 ms of getMetaData, the clocks' resolution, is a race, not a proven miss.)")
	def(SetMetaDataBadType, Must, "R-SETMETADATA-3", "the second argument of setMetaData is not exactly 'JWT'",
		"Pass the fixed string 'JWT' (upper case) as the second element: ['setMetaData', 'JWT', token, divId].")
	def(SetMetaDataDivIDUnknown, Must, "R-SETMETADATA-4", "setMetaData names a div that no campaign uses",
		"Pass the div id of the campaign's createIframe call (qualifio_insert_place_…) as the fourth element of setMetaData.")
	def(SetMetaDataDivIDMissing, Must, "R-SETMETADATA-4", "setMetaData has no divId",
		"Pass the campaign's div id as the fourth element of setMetaData; with several campaigns on the page it is the only way to route each token.")
	def(SetMetaDataDivIDNotString, Should, "R-SETMETADATA-4", "divId was passed as a DOM element or another non-string",
		"Quote the div id: 'qualifio_insert_place_…'. Qualifio's own snippet passes a bare identifier, which only works because browsers expose elements by id on window.")
	def(SetMetaDataTokenNotString, Must, "R-SETMETADATA-3", "the token passed to setMetaData is not a string",
		"Pass the compact JWT as a string (header.payload.signature), not an object or a promise.")

	def(TokenMissing, Must, "R-TOKEN-1", "the token is empty, null or undefined",
		"Render the participant's token into the page (or fetch it before the tag runs); for a logged-out visitor, show a login prompt instead of pushing an empty token.")
	def(TokenMalformed, Must, "R-TOKEN-1", "the token is not a compact JWS or JWE",
		"Send a compact JWT: three base64url parts for a JWS, five for a JWE, with a JSON header and payload.")
	def(TokenDuplicateMember, Must, "R-TOKEN-1", "a member name is repeated in the JOSE header or the claims",
		"Write each header parameter and each claim once: receivers disagree on which of two members with the same name wins (RFC 7515 §4, RFC 7519 §4), so a token with a repeated name means different things to different verifiers. Build the JSON with a map or your JWT library, never by string concatenation.")
	def(TokenTooLarge, Must, "R-TOKEN-1", "the token is over 16 KiB",
		"Keep the token small: only the fields needed to prefill the form, or an access token for your webservice.")
	def(TokenAlgForbidden, Must, "R-TOKEN-2", "the algorithm is forbidden or outside the agreed list",
		"Sign with one of the agreed algorithms (RS256, ES256…); never none, RSA1_5 or PBES2, and HS* only with a secret shared with Qualifio.")
	def(TokenSecretShort, Should, "R-TOKEN-2", "the HMAC shared secret is shorter than its algorithm's hash",
		"Generate a random shared secret at least as long as the hash: 32 bytes for HS256, 48 for HS384, 64 for HS512 (RFC 7518 §3.2); a shorter one can be brute-forced from a single token (qualcert keys generate --alg HS256 writes one).")
	def(TokenKeyUnknown, Must, "R-TOKEN-2", "no key is known for this token",
		"Set the kid header to the id of a key in your JWKS, and publish the signing key's public part there (or give Qualifio the right public key).")
	def(TokenSignatureInvalid, Must, "R-TOKEN-2", "the signature does not verify",
		"Sign with the private key whose public part Qualifio has, and do not change the token after signing (no re-encoding, no trimming).")
	def(TokenDecryptFailed, Must, "R-TOKEN-2", "the encrypted token could not be decrypted",
		"Encrypt to Qualifio's current public key (or the agreed shared key) with an agreed algorithm and a correct kid.")
	def(TokenJWEUnauthenticated, Must, "R-TOKEN-2", "an asymmetric JWE carries no signed JWT",
		"Anyone with the public key can mint an RSA-OAEP or ECDH-ES token: sign the JWT first, then encrypt it with cty: JWT (a nested JWT).")
	def(TokenExpired, Must, "R-TOKEN-3", "the token has expired",
		"Mint a fresh token for each page view, and make sure your servers' clocks are synchronised (NTP).")
	def(TokenNotYetValid, Must, "R-TOKEN-3", "the token is not valid yet (nbf in the future)",
		"Set nbf a few minutes before iat, not after, and synchronise your servers' clocks.")
	def(TokenIATFuture, Must, "R-TOKEN-3", "the token was issued in the future",
		"Set iat to the current time in seconds since the epoch (not milliseconds) and synchronise your clocks.")
	def(TokenExpBeforeIAT, Must, "R-TOKEN-3", "exp is before iat",
		"Compute exp as iat plus the lifetime, in seconds since the epoch.")
	def(TokenExpMissing, Should, "R-TOKEN-3", "the token has no exp",
		"Add exp, a few minutes after iat: a token without expiry can be replayed forever.")
	def(TokenLifetimeTooLong, Should, "R-TOKEN-3", "the token lives longer than the agreed maximum",
		"Shorten the lifetime (exp − iat) to minutes: the token is minted per page view.")
	def(TokenIssMismatch, Must, "R-TOKEN-4", "iss is missing or not the agreed issuer",
		"Set iss to the issuer agreed with Qualifio.")
	def(TokenAudMismatch, Must, "R-TOKEN-4", "aud is missing or not the agreed audience",
		"Set aud to the audience agreed with Qualifio.")
	def(TokenSubMissing, Must, "R-TOKEN-5", "sub is missing or empty",
		"Set sub to the participant's id in your systems: it is mandatory.")
	def(TokenCampaignIDMissing, Must, "R-TOKEN-6", "campaignId is missing",
		"Add the claim campaignId with the id of the campaign being played: it is mandatory.")
	def(TokenCampaignIDNotString, Must, "R-TOKEN-6", "campaignId is not a string",
		"Send campaignId as a JSON string (\"945644\"), not a number.")
	def(TokenCampaignMismatch, Must, "R-TOKEN-6", "campaignId names another campaign",
		"Mint one token per campaign with its own campaignId, and pass each with the right divId.")
	def(TokenTypInvalid, Should, "R-TOKEN-4", "typ is present but not JWT",
		"Set the header typ to JWT, or leave it out.")
	def(TokenModeAmbiguous, Must, "R-TOKEN-7", "the token carries neither participant fields nor an access token, or not in the agreed mode",
		"Put the participant's fields under the agreed claim (form by default) or an access token under the agreed claim, as agreed with Qualifio.")

	def(PIIFieldMissing, Must, "R-PII-1", "a required participant field is missing",
		"Add the field to the token (or the webservice response) under the name of Qualifio's form variable.")
	def(PIIFieldInvalid, Must, "R-PII-1", "a participant field is malformed",
		"Send well-formed values: a valid email address, dates as YYYY-MM-DD or DD/MM/YYYY, no empty strings.")
	def(PIIUnknownField, Info, "R-PII-1", "a field is not in the agreed list and will not prefill anything",
		"Remove the field, or map it to a Qualifio form variable and add it to the profile's optional fields.")

	def(UserInfoUnreachable, Must, "R-USERINFO-1", "the user-info webservice could not be reached",
		"Make the webservice reachable from Qualifio's servers over HTTPS, at the agreed URL.")
	def(UserInfoTimeout, Must, "R-USERINFO-1", "the user-info webservice did not answer in time",
		"Answer the user-info call within a second: the participant waits on the spinner meanwhile.")
	def(UserInfoStatus, Must, "R-USERINFO-1", "the user-info webservice answered with a non-2xx status",
		"Accept the access token in Authorization: Bearer, and answer 200 with the participant's data.")
	def(UserInfoBadResponse, Must, "R-USERINFO-1", "the user-info answer is not the expected JSON",
		"Answer with a JSON object of the participant's fields (under the agreed path), under 1 MiB, with Content-Type: application/json.")
	def(UserInfoSlow, Should, "R-USERINFO-1", "the user-info webservice took over 1 s",
		"Speed up the user-info endpoint: every millisecond is spent by the participant on a spinner.")

	def(CampaignBlocked, Must, "R-FLOW-1", "the participant was left on the blocked spinner",
		"Fix the other findings of this campaign, listed with it: they are why the participant did not reach the prefilled identification form.")
	outcome(CampaignBlocked)
	def(PageErrorUnhandled, Should, "R-FLOW-2", "the page showed no reaction to the campaign's error message",
		"Listen for the campaign's error message and react: push a fresh setMetaData, show a login prompt, or navigate to the login page.")
	def(PageHarnessTampered, Must, "R-FLOW-4", "the page interfered with the campaign's messages or with the certification harness",
		"Do not stop Qualifio's postMessage events (no stopPropagation or stopImmediatePropagation on messages with qualifio: true: Qualifio's kit must see them), and do not call or override the harness's functions: the verdict is taken from the campaign's side either way.")
	def(PageLoggedOutBlocked, Should, "R-FLOW-3", "a logged-out visitor was left on the spinner",
		"For a logged-out visitor, ask them to log in (or hide the campaign) instead of pushing no token or an empty one.")

	def(TokenLeaked, Should, "R-SEC-1", "the token reached a third party, a URL, a Referer or the console",
		"Send the token only through setMetaData: keep it out of URLs, analytics and pixel calls, and do not log it to the console.")
	def(TokenLeakUnchecked, Should, "R-SEC-1", "the page sent requests faster than they could be observed: some went unseen, so a leak of the token cannot be ruled out",
		"Do not fire requests in a loop (beacons, polling, retries without back-off): the message says when the harness began to miss them. Fix the flood and run again to have the leak check complete.")

	def(EnvPageUnreachable, Must, "R-ENV-1", "the page could not be loaded",
		"Check the page URL, the network from the machine running qualcert, and the session (cookies or login) in the profile.")
	def(EnvPageNotHTML, Must, "R-ENV-1", "the page URL answered with something that is not an HTML page (no content, a download, a document or data)",
		"Point page.url at the HTML page that hosts the campaign: the message says what the URL answered (HTTP 204/205, Content-Disposition: attachment, or a non-HTML type such as application/pdf or application/json).")
	def(EnvBrowser, Must, "R-ENV-1", "the browser could not be started or crashed",
		"Install Chromium (apt-get install chromium) or pass --browser-bin / --browser-url.")
	def(EnvLoginFailed, Must, "R-ENV-1", "the profile's scripted login did not complete",
		"Check page.login in the profile against the login page: the step named in the message (its selector, or the URL part of wait_url) does not match it, or the credentials were refused.")
	def(EnvKeySource, Must, "R-ENV-1", "the key source (jwks_url) could not be fetched: no token could be judged",
		"Check token.jwks_url: the message names the URL and the error (name resolution, timeout, status, size over 1 MiB, redirect to another host). qualcert must reach it from where it runs.")
	def(EnvInterrupted, Must, "R-ENV-1", "the run was interrupted before a verdict",
		"The run was cancelled (Ctrl-C, or the caller's own deadline) before this scenario reached a verdict: run it again to completion.")
	def(UserInfoNotChecked, Info, "R-USERINFO-1", "the user-info webservice was not checked (a replay, the webservice out of reach)",
		"A replay answers the page from its capture, but the user-info call is made by Qualifio's servers and is in no HAR: run the replay where the profile's userinfo.url is reachable, or certify the live page, to check it.")
	def(EnvReplayMissing, Info, "R-ENV-1", "a request of the page is not in the replayed capture",
		"The HAR given to --replay has no response for this method and URL, so the replay answered 404: if the page needs it, capture the page again with every request (the browser's \"Save all as HAR with content\", or qualcert run --har --reveal).")
	def(EnvTimeout, Must, "R-ENV-1", "the scenario did not end within its timeout",
		"Raise timing.timeout in the profile, or look for a page that never finishes loading.")
}
