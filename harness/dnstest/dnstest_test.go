package dnstest

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// A name that does not exist fails as it does against a real DNS server
// (IsNotFound, naming the host); an IP literal needs no server.
func TestNXDomain(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := NXDomain()
	_, err := r.LookupHost(ctx, "jwks.qualcert-test.invalid")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound || dnsErr.Name != "jwks.qualcert-test.invalid" {
		t.Fatalf("got %v, want a not-found DNSError naming the host", err)
	}
	if addrs, err := r.LookupHost(ctx, "127.0.0.1"); err != nil || len(addrs) != 1 {
		t.Fatalf("an IP literal: %v %v", addrs, err)
	}
}
