package main

import (
	"context"
	"fmt"
)

// cmdKeys is a placeholder until its issue lands.
func cmdKeys(ctx context.Context, e env, args []string) int {
	fmt.Fprintln(e.stderr, "qualcert keys: not implemented yet")
	return exitUsage
}
