package verify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/qualcert/qualcert/harness/finding"
)

// Claims at the exact leeway boundaries, with the clock injected through
// Config.Now, and go-jose's ValidateWithLeeway as the second opinion on the
// same instants: a claim exactly at the edge is valid, one second past it is
// not.
func TestLeewayBoundaries(t *testing.T) {
	k := genKey(t, "ES256", "k")
	const leeway = 60
	now := testNow.Unix()
	cases := []struct {
		name          string
		offset        time.Duration // added to the verifier's clock
		exp, nbf, iat int64
		want          []finding.Code
		joseErr       error
	}{
		{"exp exactly leeway ago", 0, now - leeway, now - 600, now - 900, nil, nil},
		{"exp leeway+1s ago", 0, now - leeway - 1, now - 600, now - 900, []finding.Code{finding.TokenExpired}, jwt.ErrExpired},
		{"exp leeway ago, clock +1ms", time.Millisecond, now - leeway, now - 600, now - 900, []finding.Code{finding.TokenExpired}, jwt.ErrExpired},
		{"nbf exactly leeway ahead", 0, now + 600, now + leeway, now - 10, nil, nil},
		{"nbf leeway+1s ahead", 0, now + 600, now + leeway + 1, now - 10, []finding.Code{finding.TokenNotYetValid}, jwt.ErrNotValidYet},
		{"iat exactly leeway ahead", 0, now + 600, now - 10, now + leeway, nil, nil},
		{"iat leeway+1s ahead", 0, now + 600, now - 10, now + leeway + 1, []finding.Code{finding.TokenIATFuture}, jwt.ErrIssuedInTheFuture},
		{"lifetime exactly max", 0, now + 3590, now - 10, now - 10, nil, nil},
		{"lifetime max+1s", 0, now + 3591, now - 10, now - 10, []finding.Code{finding.TokenLifetimeTooLong}, nil},
		{"exp equals iat", 0, now, now - 10, now, nil, nil},
		{"exp one second before iat", 0, now - 1, now - 10, now, []finding.Code{finding.TokenExpBeforeIAT}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseConfig()
			cfg.PublicKeyFile = writePublicPEM(t, k)
			cfg.Leeway = leeway * time.Second
			cfg.MaxLifetime = time.Hour
			clock := testNow.Add(tc.offset)
			cfg.Now = func() time.Time { return clock }
			c := goodClaims()
			c["exp"], c["nbf"], c["iat"] = tc.exp, tc.nbf, tc.iat
			expectOnly(t, newVerifier(t, cfg).Verify(context.Background(), sign(t, c, k), Options{}), tc.want...)

			jc := jwt.Claims{Expiry: jwt.NewNumericDate(time.Unix(tc.exp, 0)), NotBefore: jwt.NewNumericDate(time.Unix(tc.nbf, 0)), IssuedAt: jwt.NewNumericDate(time.Unix(tc.iat, 0))}
			err := jc.ValidateWithLeeway(jwt.Expected{Time: clock}, cfg.Leeway)
			if tc.joseErr == nil && err != nil {
				t.Fatalf("go-jose disagrees: %v", err)
			}
			if tc.joseErr != nil && !errors.Is(err, tc.joseErr) {
				t.Fatalf("go-jose says %v, want %v", err, tc.joseErr)
			}
		})
	}
}
