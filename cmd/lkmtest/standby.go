package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/lkmtest/lkmtest/harness/boot"
	"github.com/lkmtest/lkmtest/harness/cache"
	"github.com/lkmtest/lkmtest/harness/modbuild"
)

// defaultStandbyIdle is how long a standby waits for the next run.
const defaultStandbyIdle = 10 * time.Minute

// standbyIdle reads LKMTEST_STANDBY: how long the standbys a run leaves
// wait (0: none). Unset, a run at a terminal outside CI leaves them.
func standbyIdle(env environment) (time.Duration, error) {
	switch v := strings.TrimSpace(env.standby); strings.ToLower(v) {
	case "":
		if env.ci || !term.IsTerminal(int(os.Stderr.Fd())) {
			return 0, nil
		}
		return defaultStandbyIdle, nil
	case "0", "off", "no", "false":
		return 0, nil
	case "1", "on", "yes", "true":
		return defaultStandbyIdle, nil
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("LKMTEST_STANDBY=%q: want off, on or a duration such as 30m", v)
		}
		return d, nil
	}
}

// leaveStandbys starts the standbys the run's VMs want and says so, and
// the builds of the precompiled headers its module compiles want.
func leaveStandbys(idle time.Duration) {
	self, err := os.Executable()
	if err == nil {
		if perr := modbuild.SpawnPCHBuilds(self); perr != nil {
			fmt.Fprintf(os.Stderr, "lkmtest: precompiled headers: %v\n", perr)
		}
		var keys []string
		keys, err = boot.SpawnStandbys(self)
		if len(keys) > 0 {
			fmt.Fprintf(os.Stderr, "standby: %d VM(s) wait %s for the next run (LKMTEST_STANDBY=off: none; 'lkmtest standby stop' ends them)\n", len(keys), idle)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "lkmtest: standby: %v\n", err)
	}
}

func newStandbyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "standby",
		Short: "End the standby VMs earlier runs left (see LKMTEST_STANDBY)",
		Long: `A run at a terminal leaves, for each snapshot whose VMs it started,
a standby: a VM restored from the snapshot and warmed up by a process of its
own, which the next run takes instead of restoring one (its result.json
says "standby": true). A standby nobody takes ends after LKMTEST_STANDBY's
time (default 10 minutes).`,
	}
	stop := &cobra.Command{
		Use:   "stop",
		Short: "End the idle standby VMs of this user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			keys := boot.StopStandbys()
			fmt.Fprintf(cmd.OutOrStdout(), "stopped %d standby VM(s)\n", len(keys))
			return nil
		},
	}
	serve := &cobra.Command{
		Use:    "serve SPEC",
		Short:  "Hold one standby VM (started by lkmtest run)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var spec boot.StandbySpec
			if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
				return fmt.Errorf("standby spec: %w", err)
			}
			return boot.ServeStandby(cmd.Context(), spec, cmd.ErrOrStderr())
		},
	}
	cmd.AddCommand(stop, serve)
	return cmd
}

func newPCHCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pch", Short: "Precompiled headers of module sources (started by lkmtest run)", Hidden: true}
	cmd.AddCommand(&cobra.Command{
		Use:   "build WORK",
		Short: "Build the precompiled headers a kernel's module compiles wished for twice",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var w modbuild.PCHWork
			if err := json.Unmarshal([]byte(args[0]), &w); err != nil {
				return fmt.Errorf("pch build: %w", err)
			}
			unlock, err := cache.Lock(cmd.Context(), filepath.Join(w.Dir, "build.lock"))
			if err != nil {
				return err
			}
			defer unlock()
			return modbuild.BuildPCHs(cmd.Context(), w.Dir, w.Roots, cmd.ErrOrStderr())
		},
	})
	return cmd
}

// pchCompiler is the binary for module compiles with precompiled headers
// (this one), "" with LKMTEST_NO_PCH.
func pchCompiler(env environment) string {
	if env.noPCH {
		return ""
	}
	self, err := os.Executable()
	if err != nil {
		return ""
	}
	return self
}
