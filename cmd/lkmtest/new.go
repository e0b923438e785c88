package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

var moduleNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,54}$`)

func newNewCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Create a module directory (source, Kbuild, test.yaml) whose test passes at once",
		Long: `Create a new module directory: NAME.c (a module that logs one line on load
and one on unload), a Kbuild, and a test.yaml expecting both lines. Run it
with 'lkmtest run DIR'. NAME becomes the module name: lower-case letters,
digits and underscores, starting with a letter.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if !moduleNameRE.MatchString(name) {
				return fmt.Errorf("module name %q: use lower-case letters, digits and underscores, starting with a letter (at most 55 characters)", name)
			}
			if dir == "" {
				dir = name
			}
			if _, err := os.Stat(dir); err == nil {
				return fmt.Errorf("%s already exists: choose another name or --dir", dir)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			files := map[string]string{
				name + ".c": strings.ReplaceAll(newModuleC, "@NAME@", name),
				"Kbuild":    "obj-m += " + name + ".o\n",
				"test.yaml": strings.ReplaceAll(newModuleSpec, "@NAME@", name),
			}
			for f, text := range files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(text), 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s (%s.c, Kbuild, test.yaml); run it with: lkmtest run %s\n", dir, name, dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory to create (default: ./NAME)")
	return cmd
}

const newModuleC = `// SPDX-License-Identifier: GPL-2.0
/*
 * @NAME@: a loadable kernel module created by 'lkmtest new'. Its test
 * (test.yaml) loads it, expects the line logged by @NAME@_init, unloads it
 * and expects the line logged by @NAME@_exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

MODULE_DESCRIPTION("@NAME@");
MODULE_LICENSE("GPL");

static int __init @NAME@_init(void)
{
	pr_info("loaded\n");
	return 0;
}

static void __exit @NAME@_exit(void)
{
	pr_info("unloaded\n");
}

module_init(@NAME@_init);
module_exit(@NAME@_exit);
`

const newModuleSpec = `name: @NAME@
description: @NAME@ logs one line when loaded and one when unloaded.
timeout: 60s
steps:
  - insmod: @NAME@
    expect: ok
    log:
      - '^@NAME@: loaded$'
  - rmmod: @NAME@
    log:
      - '^@NAME@: unloaded$'
`
