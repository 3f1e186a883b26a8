package main

import (
	"context"
	"fmt"
)

// cmdDemo is a placeholder until its issue lands.
func cmdDemo(ctx context.Context, e env, args []string) int {
	fmt.Fprintln(e.stderr, "qualcert demo: not implemented yet")
	return exitUsage
}
