package demo

import (
	"slices"

	"github.com/qualcert/qualcert/harness/finding"
)

// mintKind is what a variant's token is made of.
type mintKind int

const (
	mintJWSInline      mintKind = iota // ES256 JWS, participant fields in "form"
	mintJWSAccessToken                 // ES256 JWS carrying an opaque access_token
	mintAccessFailing                  // same, but user-info answers 500 for it
	mintJWENested                      // ES256 JWS inside RSA-OAEP-256/A256GCM, cty JWT
	mintJWEDir                         // dir/A256GCM under the shared key, claims inside
	mintJWEUnsigned                    // RSA-OAEP-256/A256GCM over raw claims: no signature
	mintAlgNone                        // alg: none
	mintBadSignature                   // ES256 JWS with one bit of the signature flipped
	mintExpired                        // exp ten minutes ago
	mintNotYetValid                    // nbf five minutes ahead
	mintFieldMissing                   // form without lastname
	mintDuplicateIss                   // ES256 JWS whose claims give iss twice ("attacker" first)
)

// pushKind is when and how the page calls setMetaData.
type pushKind int

const (
	pushWithTag    pushKind = iota // token rendered server-side, pushed right after createIframe
	pushQueued                     // pushed before the loader script tag
	pushLate                       // fetched from /api/token, which answers after a delay
	pushNever                      // no setMetaData at all
	pushEmptyIfOut                 // pushes '' when the visitor has no session
)

// divArg is what the page gives setMetaData as its fourth argument.
type divArg int

const (
	divString  divArg = iota // 'qualifio_insert_place_945645'
	divElement               // the bare identifier of the doc's snippet: a DOM element
	divWrong                 // the campaign id instead of the channel id: an unknown div
)

// behaviour is how a variant's page and tokens are built.
type behaviour struct {
	mint          mintKind
	push          pushKind
	div           divArg
	campaigns     int  // 1 or 2
	handlesErrors bool // listens for qualifio:error, shows a banner and re-pushes once
	leaks         bool // sends the token to a third-party pixel
}

// campaign is one embedded Qualifio campaign of the demo.
type campaign struct {
	DivID      string // qualifio_insert_place_<channel id>
	Host       string // the CNAME given to createIframe
	GUID       string // channel GUID
	CampaignID string // the campaignId claim
	Title      string // what the campaign is about, for the page
}

// The demo's two campaigns. The div id carries the channel id (945645), the
// token the campaign id (945644): the wrong-divid variant mixes them up, as
// publishers do.
var campaigns = []campaign{
	{DivID: "qualifio_insert_place_945645", Host: "jeux.demo-media.test", GUID: "5E0C7C4B-2F1A-4D0B-9A51-3C6F2E8D1A47", CampaignID: "945644", Title: "Summer Jazz Festival: win two weekend passes"},
	{DivID: "qualifio_insert_place_945712", Host: "concours.demo-media.test", GUID: "A1D3F6B2-7C48-4E19-B0D5-92E4C1F7A863", CampaignID: "945711", Title: "Quiz: how well do you know your city?"},
}

func c(codes ...finding.Code) []finding.Code { return codes }

// variants is the table of harness/kit/PROTOCOL.md ("Demo variants"): slug,
// good, logged out, fault and the must/should codes each must produce.
// variants_test.go checks it against that file.
var variants = []Variant{
	{Slug: "jws-inline", Title: "JWS with inline data", Good: true,
		Description: "The recommended integration: an ES256-signed token carrying the participant's fields in form, pushed with the tag right after createIframe. The page listens for campaign errors.",
		Tags:        []string{"@jws", "@inline-pii"},
		b:           behaviour{mint: mintJWSInline, handlesErrors: true}},
	{Slug: "jws-access-token", Title: "JWS with an access token", Good: true,
		Description: "The signed token carries an access_token instead of the fields; the campaign fetches the participant from /api/userinfo with it.",
		Tags:        []string{"@jws", "@access-token"},
		b:           behaviour{mint: mintJWSAccessToken, handlesErrors: true}},
	{Slug: "jwe-nested", Title: "JWE nesting a JWS", Good: true,
		Description: "The signed token is encrypted to Qualifio's RSA key (RSA-OAEP-256, A256GCM, cty JWT): unreadable in the page, and still signed.",
		Tags:        []string{"@jwe"},
		b:           behaviour{mint: mintJWENested, handlesErrors: true}},
	{Slug: "jwe-dir", Title: "JWE with a shared key", Good: true,
		Description: "The claims are encrypted directly (dir, A256GCM) under a key shared with Qualifio; the shared key authenticates the token.",
		Tags:        []string{"@jwe"},
		b:           behaviour{mint: mintJWEDir, handlesErrors: true}},
	{Slug: "two-campaigns", Title: "Two campaigns on one page", Good: true,
		Description: "Two campaigns on two CNAMEs; each gets its own token, with its own campaignId, routed by divId.",
		Tags:        []string{"@multiple-divids"},
		b:           behaviour{mint: mintJWSInline, campaigns: 2, handlesErrors: true}},
	{Slug: "queued-before-loader", Title: "setMetaData queued before the loader", Good: true,
		Description: "The page pushes setMetaData in the head, before the loader script tag exists; the kit replays the queue in order.",
		Tags:        []string{"@tag"},
		b:           behaviour{mint: mintJWSInline, push: pushQueued, handlesErrors: true}},
	{Slug: "error-handled", Title: "Campaign error handled", Good: true, Fault: finding.TokenExpired,
		Description: "Certified with the campaign reporting token.expired whatever the token: the page shows a banner asking to log in again and pushes one fresh token.",
		Tags:        []string{"@unhappy", "@expired-token"},
		b:           behaviour{mint: mintJWSInline, handlesErrors: true}},

	{Slug: "token-late", Title: "Token fetched too late",
		Description: "The page fetches the token from /api/token, which answers after 4 s (long enough to stay late on a loaded machine): the campaign has already asked for its metadata and blocks the participant.",
		Expect:      c(finding.SetMetaDataLate, finding.CampaignBlocked),
		Tags:        []string{"@timing", "@late-setmetadata"},
		b:           behaviour{mint: mintJWSInline, push: pushLate}},
	{Slug: "setmetadata-missing", Title: "setMetaData never called",
		Description: "The campaign tag is on the page, but nothing ever calls setMetaData.",
		Expect:      c(finding.SetMetaDataMissing, finding.CampaignBlocked),
		Tags:        []string{"@missing-token"},
		b:           behaviour{mint: mintJWSInline, push: pushNever}},
	{Slug: "wrong-divid", Title: "Wrong divId",
		Description: "setMetaData names qualifio_insert_place_945644 (the campaign id) instead of the div of the tag (the channel id 945645): the token goes nowhere.",
		Expect:      c(finding.SetMetaDataDivIDUnknown, finding.SetMetaDataMissing, finding.CampaignBlocked),
		Tags:        []string{"@multiple-divids"},
		b:           behaviour{mint: mintJWSInline, div: divWrong}},
	{Slug: "expired", Title: "Expired token",
		Description: "The token expired ten minutes ago (a cached token served again).",
		Expect:      c(finding.TokenExpired, finding.CampaignBlocked),
		Tags:        []string{"@expired-token"},
		b:           behaviour{mint: mintExpired}},
	{Slug: "not-yet-valid", Title: "Token not yet valid",
		Description: "nbf is five minutes in the future (a server clock running ahead).",
		Expect:      c(finding.TokenNotYetValid, finding.CampaignBlocked),
		Tags:        []string{"@invalid-token"},
		b:           behaviour{mint: mintNotYetValid}},
	{Slug: "bad-signature", Title: "Bad signature",
		Description: "One bit of the ES256 signature is flipped: the token parses but does not verify.",
		Expect:      c(finding.TokenSignatureInvalid, finding.CampaignBlocked),
		Tags:        []string{"@invalid-token"},
		b:           behaviour{mint: mintBadSignature}},
	{Slug: "alg-none", Title: "alg: none",
		Description: "An unsigned token (alg: none): anyone could have written it.",
		Expect:      c(finding.TokenAlgForbidden, finding.CampaignBlocked),
		Tags:        []string{"@invalid-token"},
		b:           behaviour{mint: mintAlgNone}},
	{Slug: "duplicate-iss", Title: "iss given twice",
		Description: `The claims give iss twice, {"iss":"attacker",…,"iss":"demo-media"}, correctly signed: a lax JSON parser keeps the last one, another receiver the first.`,
		Expect:      c(finding.TokenDuplicateMember, finding.CampaignBlocked),
		Tags:        []string{"@invalid-token"},
		b:           behaviour{mint: mintDuplicateIss}},
	{Slug: "jwe-unsigned", Title: "Asymmetric JWE without a signature",
		Description: "The raw claims encrypted to Qualifio's public RSA key, with no signed JWT inside: anyone holding that public key could mint it.",
		Expect:      c(finding.TokenJWEUnauthenticated, finding.CampaignBlocked),
		Tags:        []string{"@jwe", "@invalid-token"},
		b:           behaviour{mint: mintJWEUnsigned}},
	{Slug: "field-missing", Title: "A required field is missing",
		Description: "The token's form has no lastname, which the identification form requires.",
		Expect:      c(finding.PIIFieldMissing, finding.CampaignBlocked),
		Tags:        []string{"@inline-pii"},
		b:           behaviour{mint: mintFieldMissing}},
	{Slug: "userinfo-failing", Title: "User-info webservice failing",
		Description: "A valid token with an access token, but /api/userinfo answers 500 for it.",
		Expect:      c(finding.UserInfoStatus, finding.CampaignBlocked),
		Tags:        []string{"@access-token"},
		b:           behaviour{mint: mintAccessFailing}},
	{Slug: "logged-out-empty-token", Title: "Empty token for a logged-out visitor", LoggedOut: true,
		Description: "Certified as a visitor who is not logged in: the page pushes an empty token and does not react to the campaign's error, leaving the visitor on the spinner.",
		Expect:      c(finding.PageLoggedOutBlocked),
		Tags:        []string{"@logged-out", "@missing-token"},
		b:           behaviour{mint: mintJWSInline, push: pushEmptyIfOut}},
	{Slug: "token-leaked", Title: "Token leaked to a third party",
		Description: "A correct handshake, but an analytics pixel on another host (localhost) receives the token in its URL.",
		Expect:      c(finding.TokenLeaked),
		Tags:        []string{"@security"},
		b:           behaviour{mint: mintJWSInline, leaks: true}},
	{Slug: "divid-element", Title: "divId passed as an element",
		Description: "setMetaData gets the bare identifier qualifio_insert_place_945645, as in the documentation's snippet: the DOM element, not its id.",
		Expect:      c(finding.SetMetaDataDivIDNotString),
		Tags:        []string{"@tag"},
		b:           behaviour{mint: mintJWSInline, div: divElement}},
	{Slug: "error-unhandled", Title: "Campaign error ignored", Fault: finding.TokenExpired,
		Description: "Certified with the campaign reporting token.expired: the page does not listen for the error and leaves the participant on the spinner.",
		Expect:      c(finding.PageErrorUnhandled),
		Tags:        []string{"@unhappy", "@expired-token"},
		b:           behaviour{mint: mintJWSInline}},
}

// variantBySlug returns the variant with that slug.
func variantBySlug(slug string) (Variant, bool) {
	i := slices.IndexFunc(variants, func(v Variant) bool { return v.Slug == slug })
	if i < 0 {
		return Variant{}, false
	}
	return variants[i], true
}

// campaignsOf returns the campaigns a variant embeds.
func (v Variant) campaigns() []campaign {
	if v.b.campaigns == 2 {
		return campaigns[:2]
	}
	return campaigns[:1]
}

// accessToken reports whether the variant's tokens carry an access token.
func (v Variant) accessToken() bool {
	return v.b.mint == mintJWSAccessToken || v.b.mint == mintAccessFailing
}

// encrypted reports whether the variant's tokens need a decryption key.
func (v Variant) encrypted() bool {
	return v.b.mint == mintJWENested || v.b.mint == mintJWEDir || v.b.mint == mintJWEUnsigned
}
