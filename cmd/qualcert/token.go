package main

import (
	"context"
	"fmt"
)

// cmdToken is a placeholder until its issue lands.
func cmdToken(ctx context.Context, e env, args []string) int {
	fmt.Fprintln(e.stderr, "qualcert token: not implemented yet")
	return exitUsage
}
