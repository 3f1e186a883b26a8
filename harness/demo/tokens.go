package demo

import (
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/qualcert/qualcert/harness/token"
)

// issuer is the iss of every demo token.
const issuer = "demo-media"

// tokenLifetime is exp − iat of the demo's tokens.
const tokenLifetime = 10 * time.Minute

// participant is a Demo Media account.
type participant struct {
	Sub       string
	Email     string
	Password  string
	FirstName string
	LastName  string
	Birthday  string // YYYY-MM-DD
}

// alice is the demo's one account; its password is shown on the login page.
var alice = participant{
	Sub: "dm-user-1042", Email: DemoEmail, Password: DemoPassword,
	FirstName: "Alice", LastName: "Dupont", Birthday: "1991-06-14",
}

// fields are the participant's form fields, as the token and user-info carry them.
func (p participant) fields() map[string]string {
	return map[string]string{"email": p.Email, "firstname": p.FirstName, "lastname": p.LastName, "birthday": p.Birthday}
}

// accessGrant is what an access token issued by the demo stands for.
type accessGrant struct {
	email   string
	failing bool // user-info answers 500 (the userinfo-failing variant)
	expires time.Time
}

// mint makes the token variant v hands campaign c for participant p.
func (s *Server) mint(v Variant, c campaign, p participant, now time.Time) (string, error) {
	iat := now.Unix()
	claims := map[string]any{
		"iss":        issuer,
		"sub":        p.Sub,
		"campaignId": c.CampaignID,
		"iat":        iat,
		"nbf":        iat - 60,
		"exp":        iat + int64(tokenLifetime/time.Second),
		"form":       p.fields(),
	}
	switch v.b.mint {
	case mintJWSAccessToken, mintAccessFailing:
		at, err := s.issueAccessToken(p, v.b.mint == mintAccessFailing, now)
		if err != nil {
			return "", err
		}
		delete(claims, "form")
		claims["access_token"] = at
	case mintExpired:
		iat = now.Add(-20 * time.Minute).Unix()
		claims["iat"], claims["nbf"], claims["exp"] = iat, iat-60, iat+int64(tokenLifetime/time.Second)
	case mintNotYetValid:
		nbf := now.Add(5 * time.Minute).Unix()
		claims["nbf"], claims["exp"] = nbf, nbf+int64(tokenLifetime/time.Second)
	case mintFieldMissing:
		f := p.fields()
		delete(f, "lastname")
		claims["form"] = f
	}

	switch v.b.mint {
	case mintJWENested:
		return token.Nested(claims, s.keys.sign, s.keys.enc, jose.A256GCM)
	case mintJWEDir, mintJWEUnsigned:
		raw, err := json.Marshal(claims)
		if err != nil {
			return "", fmt.Errorf("minting a token: encoding claims: %w", err)
		}
		k := s.keys.dir
		if v.b.mint == mintJWEUnsigned {
			k = s.keys.enc
		}
		return token.Encrypt(raw, k, jose.A256GCM, "")
	case mintAlgNone:
		return token.Unsigned(claims, "none")
	case mintDuplicateIss:
		// a map cannot hold two iss: splice the attacker's in front
		raw, err := json.Marshal(claims)
		if err != nil {
			return "", fmt.Errorf("minting a token: encoding claims: %w", err)
		}
		raw = append([]byte(`{"iss":"attacker",`), raw[1:]...)
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(s.keys.sign.Alg),
			Key: jose.JSONWebKey{Key: s.keys.sign.Private, KeyID: s.keys.sign.KID, Algorithm: s.keys.sign.Alg}},
			(&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			return "", fmt.Errorf("minting a token: %w", err)
		}
		obj, err := signer.Sign(raw)
		if err != nil {
			return "", fmt.Errorf("minting a token: %w", err)
		}
		return obj.CompactSerialize()
	case mintBadSignature:
		jws, err := token.Sign(claims, s.keys.sign, token.SignOptions{})
		if err != nil {
			return "", err
		}
		return token.Tamper(jws), nil
	default:
		return token.Sign(claims, s.keys.sign, token.SignOptions{})
	}
}

// issueAccessToken records a fresh opaque access token for p, valid as long
// as the JWT that carries it, and forgets the expired ones.
func (s *Server) issueAccessToken(p participant, failing bool, now time.Time) (string, error) {
	at, err := randomID()
	if err != nil {
		return "", fmt.Errorf("issuing an access token: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, g := range s.accessTokens {
		if now.After(g.expires) {
			delete(s.accessTokens, k)
		}
	}
	s.accessTokens[at] = accessGrant{email: p.Email, failing: failing, expires: now.Add(tokenLifetime)}
	return at, nil
}

// The demo account, shown on the login page and by `qualcert demo`.
const (
	DemoEmail    = "alice@demo-media.test"
	DemoPassword = "jazz-in-july"
)
