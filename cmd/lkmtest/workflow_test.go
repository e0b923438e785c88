package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

// TestWorkflowCommands checks that every make target and lkmtest command
// (with its flags) that the CI workflow runs exists.
func TestWorkflowCommands(t *testing.T) {
	b, err := os.ReadFile("../../.github/workflows/ci.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(mk), -1) {
		targets[m[1]] = true
	}
	var makes, lkmtests int
	for job, j := range wf.Jobs {
		for _, st := range j.Steps {
			for _, line := range strings.Split(st.Run, "\n") {
				// "$(bin/lkmtest matrix ...)" counts as a command too.
				line = strings.Split(strings.ReplaceAll(line, "$(", " "), ")")[0]
				words := strings.Fields(line)
				for i, w := range words {
					switch {
					case w == "make":
						for _, target := range words[i+1:] {
							if strings.HasPrefix(target, "-") || strings.Contains(target, "=") {
								continue
							}
							makes++
							if !targets[target] {
								t.Errorf("job %s runs 'make %s': no such target in the Makefile", job, target)
							}
						}
					case w == "bin/lkmtest" || w == "lkmtest":
						lkmtests++
						args := words[i+1:]
						root := newRootCmd()
						cmd, rest, err := root.Find(args)
						if err != nil || cmd == root {
							t.Errorf("job %s runs 'lkmtest %s': no such command (%v)", job, strings.Join(args, " "), err)
							continue
						}
						if err := cmd.ParseFlags(rest); err != nil {
							t.Errorf("job %s runs 'lkmtest %s': %v", job, strings.Join(args, " "), err)
						}
						checkArgs(t, job, cmd, rest)
					}
				}
			}
		}
	}
	if makes < 3 || lkmtests < 3 {
		t.Errorf("found %d make and %d lkmtest commands in the workflow: the parsing is broken", makes, lkmtests)
	}
}

func checkArgs(t *testing.T, job string, cmd *cobra.Command, rest []string) {
	t.Helper()
	if cmd.Args == nil {
		return
	}
	if err := cmd.Args(cmd, cmd.Flags().Args()); err != nil {
		t.Errorf("job %s: lkmtest %s %s: %v", job, cmd.Name(), strings.Join(rest, " "), err)
	}
}
