package main

import "os"

// envVars are every environment variable lkmtest reads, with what it
// does. readEnv is the only place that reads them, but XDG_CACHE_HOME,
// which harness/cache reads when no --cache-dir is given, and DOCKER_CONFIG,
// which the registry client's Docker keychain reads (the README lists them
// all; TestEnvDocumented checks).
var envVars = []struct{ Name, What string }{
	{"LKMTEST_SRC", "lkmtest's source tree, for the guest agent and the u-root image (default: found from the working directory or the binary)"},
	{"LKMTEST_AGENT_DIR", "prebuilt guest agents lkmtest-agent-<goarch> to use instead of building them"},
	{"LKMTEST_KERNEL_MIRROR", "base URL of kernel.org releases (a local mirror)"},
	{"LKMTEST_DEBIAN_SRC", "directory of Debian's linux-source-<series>.tar.xz (default /usr/src)"},
	{"LKMTEST_NO_SNAPSHOT", "1: boot every test VM instead of restoring a snapshot"},
	{"LKMTEST_NO_PROBE_MEMO", "1: run kbuild's compiler probes on every module build"},
	{"LKMTEST_NO_PCH", "1: compile module sources without lkmtest's precompiled headers (and without its compiler wrapper)"},
	{"LKMTEST_STANDBY", "whether a run leaves standby VMs for the next (and builds the precompiled headers its edits want): off (0) or on (1, for 10 minutes) or how long they wait (e.g. 30m); default on when stderr is a terminal and CI is unset"},
	{"XDG_CACHE_HOME", "the cache is $XDG_CACHE_HOME/lkmtest (default ~/.cache/lkmtest; --cache-dir overrides)"},
	{"CI", "set: plain progress lines instead of the live view"},
	{"GITHUB_ACTIONS", "true: write annotations and the step summary"},
	{"GITHUB_WORKSPACE", "the root annotations' paths are relative to"},
	{"GITHUB_STEP_SUMMARY", "the file the Markdown summary is appended to"},
	{"GITHUB_TOKEN", "a token for ghcr.io (kernel push/pull, --kernel-registry): read:packages to pull, write:packages to push"},
	{"GITHUB_ACTOR", "the user name that goes with GITHUB_TOKEN (default lkmtest; ghcr.io accepts any with a token)"},
	{"DOCKER_CONFIG", "the directory of the Docker config.json whose logins (docker login) registries get (default ~/.docker)"},
}

// environment is what the variables say.
type environment struct {
	src, agentDir, kernelMirror, debianSrc string
	noSnapshot, noProbeMemo, noPCH         bool
	standby                                string
	ci, githubActions                      bool
	githubWorkspace, githubStepSummary     string
	githubToken, githubActor               string
}

// readEnv reads every variable of envVars.
func readEnv() environment {
	return environment{
		src: os.Getenv("LKMTEST_SRC"), agentDir: os.Getenv("LKMTEST_AGENT_DIR"),
		kernelMirror: os.Getenv("LKMTEST_KERNEL_MIRROR"), debianSrc: os.Getenv("LKMTEST_DEBIAN_SRC"),
		noSnapshot: os.Getenv("LKMTEST_NO_SNAPSHOT") != "", noProbeMemo: os.Getenv("LKMTEST_NO_PROBE_MEMO") != "",
		standby: os.Getenv("LKMTEST_STANDBY"), noPCH: os.Getenv("LKMTEST_NO_PCH") != "",
		ci: os.Getenv("CI") != "", githubActions: os.Getenv("GITHUB_ACTIONS") == "true",
		githubWorkspace: os.Getenv("GITHUB_WORKSPACE"), githubStepSummary: os.Getenv("GITHUB_STEP_SUMMARY"),
		githubToken: os.Getenv("GITHUB_TOKEN"), githubActor: os.Getenv("GITHUB_ACTOR"),
	}
}
