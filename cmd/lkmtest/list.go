package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lkmtest/lkmtest/harness/spec"
)

func newListCmd() *cobra.Command {
	var suite string
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the suite's tests by book chapter, with where they apply",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if suite == "" {
				suite = defaultSuite()
			}
			specs, err := spec.Find(suite)
			if err != nil {
				return err
			}
			sort.SliceStable(specs, func(i, j int) bool {
				if specs[i].Chapter != specs[j].Chapter {
					return specs[i].Chapter < specs[j].Chapter
				}
				return specs[i].Name < specs[j].Name
			})
			if jsonOut {
				type entry struct {
					Name        string   `json:"name"`
					File        string   `json:"file"`
					Chapter     int      `json:"chapter,omitempty"`
					Tags        []string `json:"tags,omitempty"`
					Arch        []string `json:"arch,omitempty"`
					Kernel      string   `json:"kernel,omitempty"`
					Config      []string `json:"config,omitempty"`
					Description string   `json:"description,omitempty"`
				}
				var out []entry
				for _, s := range specs {
					out = append(out, entry{s.Name, s.File, s.Chapter, s.Tags, s.Requires.Arch, s.Requires.Kernel, s.Requires.Config, strings.TrimSpace(s.Description)})
				}
				b, _ := json.MarshalIndent(out, "", "  ")
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CH\tTEST\tARCH\tKERNEL\tNEEDS\tDESCRIPTION")
			for _, s := range specs {
				ch := "-"
				if s.Chapter > 0 {
					ch = fmt.Sprint(s.Chapter)
				}
				desc := strings.Join(strings.Fields(s.Description), " ")
				if len(desc) > 60 {
					desc = desc[:57] + "..."
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", ch, s.Name, orAll(strings.Join(s.Requires.Arch, ",")),
					orAll(s.Requires.Kernel), orDash(strings.Join(s.Requires.Config, ",")), desc)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&suite, "suite", "", "directory searched for test.yaml files (default: ./modules)")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the list as JSON")
	return cmd
}

func orAll(s string) string {
	if s == "" {
		return "all"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
