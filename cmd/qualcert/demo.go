package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/qualcert/qualcert/harness/demo"
)

const demoUsage = `Usage: qualcert demo [flags]

Serves Demo Media, the embedded demo publisher, until interrupted (Ctrl-C):
an index of its integration variants (good and faulty, each with the finding
codes a certification must produce), one article page per variant embedding a
Qualifio campaign with the JS tag and setMetaData, a login with one demo
account, a JWKS endpoint and a user-info endpoint. Its keys are generated at
start and removed at exit.

The campaign frames only run under 'qualcert run', which intercepts the
Qualifio kit in its headless browser; in a plain browser they stay empty.

Flags:
`

// cmdDemo serves the demo publisher until ctx is done.
func cmdDemo(ctx context.Context, e env, args []string) int {
	fs := newFlags("demo")
	addr := fs.String("addr", "127.0.0.1:8080", "`host:port` to serve on (127.0.0.1:0 picks a free port)")
	profiles := fs.String("write-profiles", "", "also write one profile per variant (<slug>.yaml) into `DIR`, for 'qualcert run --profile'; valid while this demo runs")
	printUsage := func(w io.Writer) {
		fmt.Fprint(w, demoUsage)
		printFlags(w, fs)
	}
	if code, done := parseFlags(e, fs, "demo", args, printUsage); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "qualcert demo: unexpected argument %q (demo takes flags only; see qualcert help demo)\n", fs.Arg(0))
		return exitUsage
	}

	srv, err := demo.Start(ctx, *addr)
	if err != nil {
		fmt.Fprintf(e.stderr, "qualcert demo: %v\n", err)
		return exitFailed
	}
	defer func() {
		if err := srv.Close(); err != nil {
			fmt.Fprintf(e.stderr, "qualcert demo: %v\n", err)
		}
	}()

	if *profiles != "" {
		if err := os.MkdirAll(*profiles, 0o700); err != nil {
			fmt.Fprintf(e.stderr, "qualcert demo: creating the profile folder: %v\n", err)
			return exitFailed
		}
		for _, v := range srv.Variants() {
			if err := srv.WriteProfile(v.Slug, filepath.Join(*profiles, v.Slug+".yaml")); err != nil {
				fmt.Fprintf(e.stderr, "qualcert demo: %v\n", err)
				return exitFailed
			}
		}
	}

	good := 0
	for _, v := range srv.Variants() {
		if v.Good {
			good++
		}
	}
	fmt.Fprintf(e.stdout, "Demo Media is serving on %s\n", srv.URL)
	fmt.Fprintf(e.stdout, "  %d integration variants (%d good, %d faulty): %s/\n", len(srv.Variants()), good, len(srv.Variants())-good, srv.URL)
	fmt.Fprintf(e.stdout, "  log in as %s, password %s\n", demo.DemoEmail, demo.DemoPassword)
	fmt.Fprintf(e.stdout, "  JWKS %s/.well-known/jwks.json, user-info %s/api/userinfo\n", srv.URL, srv.URL)
	if *profiles != "" {
		fmt.Fprintf(e.stdout, "  profiles in %s (qualcert run --profile %s)\n", *profiles, filepath.Join(*profiles, "jws-inline.yaml"))
	}
	fmt.Fprintf(e.stdout, "Press Ctrl-C to stop.\n")
	<-ctx.Done()
	fmt.Fprintf(e.stdout, "Stopping Demo Media.\n")
	return exitOK
}
