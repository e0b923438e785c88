package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/lkmtest/lkmtest/harness/modbuild"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "__cc" {
		// The compiler wrapper's call (harness/modbuild/pch.go), before
		// anything else: it runs once per module source compile.
		os.Exit(modbuild.CompileMain(os.Args[2:]))
	}
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
