// Package dnstest gives tests a name resolver that never leaves the
// process: a *net.Resolver whose DNS server is a Go function on an
// in-memory connection. A test that needs a name to fail to resolve (a
// JWKS host that does not exist) then gets a real *net.DNSError from Go's
// own resolver, the same on every machine, and no query reaches the
// system's resolver or the network.
package dnstest

import (
	"context"
	"encoding/binary"
	"io"
	"net"

	"golang.org/x/net/dns/dnsmessage"
)

// NXDomain returns a resolver that answers every query "no such host"
// (NXDOMAIN), as a DNS server does for a name that does not exist. Names
// in /etc/hosts (localhost) and IP literals resolve as usual: Go's
// resolver reads the hosts file before it asks a server.
func NXDomain() *net.Resolver {
	return &net.Resolver{
		PreferGo: true, // Go's resolver: it dials through Dial (cgo's would not)
		Dial: func(ctx context.Context, network, address string) (net.Conn, error) {
			client, server := net.Pipe()
			go serve(server)
			return client, nil
		},
	}
}

// serve answers the queries written to c, framed as over TCP (a two-byte
// length before each message: net.Pipe is no PacketConn, so Go's
// resolver speaks DNS-over-TCP to it), until the resolver closes it.
func serve(c net.Conn) {
	defer c.Close()
	for {
		var n uint16
		if err := binary.Read(c, binary.BigEndian, &n); err != nil {
			return
		}
		q := make([]byte, n)
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		resp, err := nxdomain(q)
		if err != nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// nxdomain builds the NXDOMAIN answer to query q: its id and questions,
// no records.
func nxdomain(q []byte) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(q)
	if err != nil {
		return nil, err
	}
	qs, err := p.AllQuestions()
	if err != nil {
		return nil, err
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, OpCode: h.OpCode,
		RecursionDesired: h.RecursionDesired, RecursionAvailable: true, RCode: dnsmessage.RCodeNameError})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	for _, x := range qs {
		if err := b.Question(x); err != nil {
			return nil, err
		}
	}
	return b.Finish()
}
