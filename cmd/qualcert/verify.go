package main

import (
	"context"
	"fmt"
)

// cmdVerify is a placeholder until its issue lands.
func cmdVerify(ctx context.Context, e env, args []string) int {
	fmt.Fprintln(e.stderr, "qualcert verify: not implemented yet")
	return exitUsage
}
