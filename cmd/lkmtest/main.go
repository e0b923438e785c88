package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	interrupted := ctx.Err() != nil
	stop()
	var ec exitCode
	switch {
	case interrupted:
		fmt.Fprintln(os.Stderr, "lkmtest: interrupted")
		os.Exit(130)
	case errors.As(err, &ec):
		os.Exit(int(ec))
	case err != nil:
		fmt.Fprintln(os.Stderr, "lkmtest:", err)
		os.Exit(2)
	}
}
