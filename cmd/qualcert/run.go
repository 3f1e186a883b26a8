package main

import (
	"context"
	"fmt"
)

// cmdRun is a placeholder until its issue lands.
func cmdRun(ctx context.Context, e env, args []string) int {
	fmt.Fprintln(e.stderr, "qualcert run: not implemented yet")
	return exitUsage
}
