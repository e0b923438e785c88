# lkmtest: build, boot and test Linux kernel modules in QEMU.
#   make run    install host packages if missing, build, run the book suite
#   make test   unit tests + end-to-end tests in QEMU (builds the kernel once, cached)

GO      ?= go
BIN     := bin
ARCHS   := amd64 arm64
# Debian packages lkmtest needs on this host: the list 'lkmtest doctor'
# checks too (harness/hostdeps/packages.txt: package, host, provides, what).
DEBARCH ?= $(shell dpkg --print-architecture 2>/dev/null)
PKGS    := $(shell awk '!/^\#/ && NF && ($$2 == "any" || $$2 == "$(DEBARCH)") && !seen[$$1]++ {print $$1}' harness/hostdeps/packages.txt)
# The go line of go.mod: the oldest Go that builds lkmtest.
GOMIN   := $(shell awk '$$1 == "go" {print $$2; exit}' go.mod)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RUNARGS ?=

.PHONY: all deps build run test unit bench bench-cold lint lint-go lint-workflows lint-modules clean install

all: build

## deps: install the missing Debian packages (a quick no-op when all are there)
deps:
	@missing=$$(for p in $(PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go $(GOMIN) or newer is needed: https://go.dev/dl/"; exit 2; }

## build: bin/lkmtest and the guest agents bin/lkmtest-agent-{amd64,arm64}
build:
	$(GO) build -o $(BIN)/lkmtest ./cmd/lkmtest
	@for a in $(ARCHS); do \
		CGO_ENABLED=0 GOOS=linux GOARCH=$$a $(GO) build -trimpath -ldflags='-s -w' \
			-o $(BIN)/lkmtest-agent-$$a ./cmd/lkmtest-agent || exit 1; done

## run: the main job: deps, build, then the book suite on both arches; prints the verdict
run: deps build
	$(BIN)/lkmtest run --arch x86_64,arm64 $(RUNARGS)

## test: unit tests and end-to-end tests in QEMU (the first run builds the kernel)
test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 80m ./...

## unit: only the tests that boot nothing
unit:
	$(GO) test -short -count=1 ./...

## bench: warm-loop and cache numbers, the book suite 5 times (no flakes) and once on the 2x2 matrix (peak RSS), written to bench.txt
bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 5x -timeout 60m ./harness/ | tee bench.txt
	$(GO) test -run '^$$' -bench . ./harness/klog/ ./harness/spec/ ./harness/modbuild/ ./harness/symbol/ | tee -a bench.txt
	$(GO) test -run '^$$' -bench 'BookSuite|BookMatrix' -benchtime 1x -timeout 60m ./cmd/lkmtest/ | tee -a bench.txt
	$(GO) test -run '^$$' -bench PrepareVsBuild -benchtime 1x -timeout 60m ./cmd/lkmtest/ | tee -a bench.txt
	$(GO) test -run '^$$' -bench KernelArtifact -benchtime 3x -timeout 30m ./harness/registry/ | tee -a bench.txt

## bench-cold: the main job (the book suite, both arches) from an empty cache, phase by phase, written to bench-cold.txt
bench-cold: deps build
	@s=$$(date +%s.%N); $(MAKE) -s deps; echo "packages (make deps, all installed here): $$(echo "$$(date +%s.%N) - $$s" | bc) s" > bench-cold.txt
	$(GO) test -run '^$$' -bench ColdRun -benchtime 1x -timeout 180m ./cmd/lkmtest/ | tee -a bench-cold.txt

## lint: gofmt, go vet, and the modules: checkpatch and warning-free W=1 builds
# checkpatch types ignored suite-wide, each justified in the README of the
# module that needs it: PREFER_PR_LEVEL (ch04-hello shows printk(KERN_INFO)),
# LINUX_VERSION_CODE and CONSTANT_COMPARISON (version guards for 5.4/6.x),
# OOM_MESSAGE (ch08-kmalloc-max prints the failing size: it is the result).
# MODULE_LICENSE is ignored in ch05-modstacking/mit/ only: its "MIT" licence
# is the experiment (the loader taints the kernel and refuses GPL-only symbols).
CHECKPATCH_IGNORE := PREFER_PR_LEVEL,LINUX_VERSION_CODE,CONSTANT_COMPARISON,OOM_MESSAGE
CHECKPATCH_LICENCE_DIR := modules/ch05-modstacking/mit/
lint: lint-go lint-layers lint-workflows lint-modules

lint-go:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

# The import direction cmd -> pipeline -> stages -> leaves (the table is in
# harness/layering_test.go); it boots nothing.
.PHONY: lint-layers
lint-layers:
	$(GO) test -run TestLayering -count=1 ./harness/

# actionlint checks the workflow files (pinned: the proxy refuses @latest
# for some modules, and a lint must not change under us).
ACTIONLINT := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
# Also checked: every yaml block of the README's "GitHub Actions" section
# (the recipes for module repositories) and the module repository
# fixture's workflow; the action itself (action.yml) through the workflow
# that calls it (.github/workflows/action.yml: uses: ./) and TestActionSchema.
lint-workflows:
	@t=$$(mktemp -d) && \
	awk -v d=$$t '/^## /{g = /^## GitHub Actions/} g && /^```yaml$$/{f=1; n++; next} f && /^```$$/{f=0; next} f {print > (d "/readme-recipe-" n ".yml")}' README.md && \
	ls $$t/readme-recipe-*.yml >/dev/null && \
	$(GO) run $(ACTIONLINT) -color=false .github/workflows/*.yml harness/testdata/trees/gh-action-repo/.github/workflows/*.yml $$t/readme-recipe-*.yml; rc=$$?; rm -rf $$t; \
	[ $$rc -eq 0 ] && echo "actionlint: clean (workflows, the action's calls, the README recipes, the fixture's workflow)"; exit $$rc

lint-modules: build
	@src=$$($(BIN)/lkmtest kernel src) && \
	perl $$src/scripts/checkpatch.pl --no-tree --quiet --ignore $(CHECKPATCH_IGNORE) \
		--file $$(git ls-files 'modules/*.c' 'modules/*.h' | grep -v '^$(CHECKPATCH_LICENCE_DIR)') && \
	perl $$src/scripts/checkpatch.pl --no-tree --quiet --ignore $(CHECKPATCH_IGNORE),MODULE_LICENSE \
		--file $$(git ls-files '$(CHECKPATCH_LICENCE_DIR)*.c') && echo "checkpatch: clean"
	@for k in 6.1 6.12; do for a in x86_64 arm64; do \
		kb=$$($(BIN)/lkmtest kernel build --kernel $$k --arch $$a | sed -n 's/^build dir (for make -C ... M=): //p') || exit 1; \
		cross=""; [ $$a = arm64 ] && cross="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"; \
		for d in $$(git ls-files 'modules/*/Kbuild' | xargs -n1 dirname); do \
			t=$$(mktemp -d) && cp -r $$d/. $$t && \
			out=$$(make -s -C $$kb M=$$t $$cross W=1 modules 2>&1); rc=$$?; rm -rf $$t; \
			if [ $$rc -ne 0 ] || echo "$$out" | grep -q 'warning:'; then echo "$$d ($$k $$a): W=1 build not clean:"; echo "$$out"; exit 1; fi; \
		done; echo "W=1 builds on $$k $$a: clean"; \
	done; done

install: build
	install -d $(DESTDIR)/usr/local/bin
	install -m 0755 $(BIN)/lkmtest $(BIN)/lkmtest-agent-* $(DESTDIR)/usr/local/bin/

clean:
	rm -rf $(BIN) lkmtest-out bench.txt
