# Every command goes through this Makefile: the toolchain and build settings live
# here, not in the user's head. Each entry point installs what it needs, so any
# of them can be the first command on a fresh machine (Debian with Go; the Go
# toolchain named below, Debian packages, GoNB, ONNX Runtime and the dataset
# are fetched on first use):
#   make demo   - the main job on the embedded default backend (pure Go)
#   make test   - installs what is missing (make setup), then runs all tests
#   make notebooks - executes the GoNB notebooks headless (NB=02 for one)
#   make jupyter   - Jupyter on notebooks/ with this environment
#   make bench     - training-step speed, lowered blocks vs graph.Convolve
SHELL := /bin/bash

export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd
# The onnx tag compiles in the ONNX Runtime backend (loaded with dlopen at run time).
export GOFLAGS := -tags=onnx
# GOAMD64=v3 and above let the compiler fuse multiply-adds, which moves float
# results in the last bits: the committed fits (hwcost) come from v1 builds
# and are reproduced bit for bit only by one (see internal/fma; test-fused
# checks what must hold in either build).
export GOAMD64 := v1
export PATH := $(CURDIR)/.deps/bin:$(PATH)
export ONNXRUNTIME_SHARED_LIBRARY_PATH := $(CURDIR)/.deps/onnxruntime/libonnxruntime.so.1
export MULTIHW_ROOT := $(CURDIR)
# `make setup` installs the Debian dataset, ONNX Runtime and Debian's
# python3-onnx (onnx.checker on exported files), so tests that use them must
# find them: a missing one fails the tests instead of skipping them.
export MULTIHW_REQUIRE_FASHION_MNIST := 1
export MULTIHW_REQUIRE_ONNX := 1

DEPS := $(CURDIR)/.deps
BIN := $(CURDIR)/bin
MULTIHW := $(BIN)/multihw
# Debian packages: the dataset (the demo, tests, notebooks), the notebook
# runner (notebooks, tests), the ONNX checker (tests of the exported files).
APT_DATA := dataset-fashion-mnist
APT_NOTEBOOKS := jupyter-nbconvert python3-nbclient python3-ipykernel jupyter-client
APT_TEST := python3-onnx
APT_PACKAGES := $(APT_NOTEBOOKS) $(APT_DATA) $(APT_TEST)
ORT_VERSION := 1.30.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
GO_TEST_FLAGS ?= -timeout 60m

.PHONY: all setup setup-apt setup-data setup-notebooks setup-go setup-ort check-go build demo test test-go test-fused test-nosimd notebooks notebooks-full jupyter bench fmt vet clean search-evidence study study-report study-quick

all: build

## setup: idempotent installation of everything the project needs.
setup: setup-apt setup-go setup-ort

# apt-install installs the Debian packages among $(1) that are missing.
define apt-install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

setup-apt:
	$(call apt-install,$(APT_PACKAGES))

setup-data:
	$(call apt-install,$(APT_DATA))

setup-notebooks:
	$(call apt-install,$(APT_NOTEBOOKS) $(APT_DATA))

# Any Go (1.21 or later) fetches the toolchain GOTOOLCHAIN names on first use.
check-go:
	@command -v go >/dev/null || { echo "Go is not installed: install any Go >= 1.21 (Debian: apt-get install golang-go); it fetches Go $(GOTOOLCHAIN:go%=%) itself"; exit 1; }

# The kernel is (re)installed unless kernel.json already runs this clone's
# gonb. GoNB copies a binary that lives under /tmp next to kernel.json, so
# after installing, the check is only that kernel.json runs an executable.
setup-go: check-go $(DEPS)/bin/goimports $(DEPS)/bin/gonb
	@k=$(HOME)/.local/share/jupyter/kernels/gonb/kernel.json; \
	grep -qs '"$(DEPS)/bin/gonb"' $$k || $(DEPS)/bin/gonb --install --force_deps --logtostderr=false || exit 1; \
	bin=$$(grep -o '"argv": *\["[^"]*"' $$k | sed 's/.*\["//; s/"$$//'); \
	test -x "$$bin" || { echo "GoNB kernel not installed: $$k does not run an executable ($$bin)"; exit 1; }

$(DEPS)/bin/goimports: | check-go
	GOBIN=$(DEPS)/bin go install golang.org/x/tools/cmd/goimports@latest

# GoNB comes from the `tool` line in go.mod, built to a stable path because
# kernel.json records the absolute path of the binary that installed it.
$(DEPS)/bin/gonb: go.mod go.sum | check-go
	go build -o $@ github.com/janpfeifer/gonb

# ONNX Runtime shared library, from the npm package (git-ignored).
setup-ort: $(DEPS)/onnxruntime/libonnxruntime.so.1

$(DEPS)/onnxruntime/libonnxruntime.so.1:
	@command -v npm >/dev/null || { echo "installing npm (to fetch ONNX Runtime)"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq npm >/dev/null; }
	@mkdir -p $(DEPS)/onnxruntime/tmp
	cd $(DEPS)/onnxruntime/tmp && npm pack --silent onnxruntime-node@$(ORT_VERSION) >/dev/null && \
	  tar -xzf onnxruntime-node-$(ORT_VERSION).tgz package/bin/napi-v6/linux/x64/libonnxruntime.so.1 && \
	  mv package/bin/napi-v6/linux/x64/libonnxruntime.so.1 $@.tmp && mv $@.tmp $@
	rm -rf $(DEPS)/onnxruntime/tmp

build: check-go
	go build -o $(MULTIHW) ./cmd/multihw

# The demo trains on Fashion-MNIST and compares the Go backend with ONNX Runtime.
demo: build setup-data setup-ort
	$(MULTIHW) demo

test: setup build vet test-go test-fused test-nosimd notebooks

vet:
	go vet ./...

test-go:
	go test $(GO_TEST_FLAGS) ./...

# The Go inference kernels repeat the backend's float arithmetic, and the
# optimizer the graph's, bit for bit in builds that fuse multiply-adds too
# (internal/fma): their tests again in a GOAMD64=v3 build. A CPU without the
# x86-64-v3 features cannot run such a build (Go's runtime refuses to start:
# then this says so and runs nothing); any other failure fails.
FUSED_TEST_PKGS := ./internal/fma ./blocks/convnet ./train/optim ./train
test-fused:
	@if [ "$$(go env GOARCH)" != amd64 ]; then echo "test-fused: not run: GOAMD64 builds are amd64 only"; exit 0; fi; \
	out=$$(GOAMD64=v3 go test -count=1 ./internal/fma 2>&1); rc=$$?; \
	if [ $$rc -ne 0 ] && grep -q "microarchitecture support" <<<"$$out"; then \
	  echo "test-fused: not run: this CPU cannot run GOAMD64=v3 code ($$(grep -m1 -o 'can only be run.*' <<<"$$out"))"; \
	elif [ $$rc -ne 0 ]; then echo "$$out"; exit 1; \
	else GOAMD64=v3 go test $(GO_TEST_FLAGS) $(FUSED_TEST_PKGS); fi

# Builds without GOEXPERIMENT=simd (and every build off amd64, e.g. arm64) have
# no Go kernels: inference runs its graphs, the optimizer and the cost tables
# their scalar loops. The packages whose code differs by build, and those that
# run inference, are tested in such a build too (the committed fits reproduce
# bit for bit there as well).
NOSIMD_TEST_PKGS := ./blocks/convnet ./train/optim ./internal/heapguard ./hwcost ./hwcost/measure ./train ./train/export
test-nosimd:
	GOEXPERIMENT= go test $(GO_TEST_FLAGS) $(NOSIMD_TEST_PKGS)

# Notebooks: each notebooks/NN_*.ipynb runs in a fresh GoNB kernel; the executed
# copy goes to notebooks/.out/ (git-ignored), the kernel's log next to it. A
# failing cell fails the target. Then notebooks_test.go checks the copies (every
# cell ran, no error, at least one image). NB=02 runs only the notebooks whose
# name starts with 02; MULTIHW_FULL=1 switches the notebooks to full runs.
NOTEBOOK_DIR := notebooks
NOTEBOOK_TIMEOUT ?= 1800
NOTEBOOKS = $(sort $(wildcard $(NOTEBOOK_DIR)/$(if $(NB),$(NB),[0-9][0-9]_)*.ipynb))

notebooks: setup-notebooks setup-go setup-ort
	@test -n "$(NOTEBOOKS)" || { echo "no notebook matches $(NOTEBOOK_DIR)/$(NB)*.ipynb"; exit 1; }
	@mkdir -p $(NOTEBOOK_DIR)/.out
	@set -e; ran=""; for nb in $(NOTEBOOKS); do \
	  name=$$(basename $$nb .ipynb); log=$(NOTEBOOK_DIR)/.out/$$name.log; start=$$(date +%s); \
	  rm -f $(NOTEBOOK_DIR)/.out/$$name.ipynb; \
	  if ! jupyter nbconvert --to notebook --execute $$nb --output-dir $(NOTEBOOK_DIR)/.out --output $$name \
	      --ExecutePreprocessor.kernel_name=gonb --ExecutePreprocessor.timeout=$(NOTEBOOK_TIMEOUT) >$$log 2>&1; then \
	    grep -v '^[IWE][0-9]\{4\} ' $$log | tail -n 40; \
	    echo "notebook $$nb FAILED (kernel and nbconvert log: $$log)"; exit 1; \
	  fi; \
	  echo "notebook $$nb: $$(( $$(date +%s) - start )) s"; ran="$$ran $$name"; \
	done; \
	MULTIHW_NOTEBOOKS_EXECUTED="$$ran" go test -count=1 -run 'Notebooks' ./$(NOTEBOOK_DIR)

# Jupyter with the project's environment (GOTOOLCHAIN, GOEXPERIMENT, MULTIHW_ROOT
# ... are exported above, and the GoNB kernel inherits them). The notebook
# server is installed on first use (as root it runs with --allow-root);
# JUPYTER_FLAGS adds options (e.g. --no-browser --ip=0.0.0.0).
jupyter: setup-notebooks setup-go setup-ort
	$(call apt-install,jupyter-notebook)
	jupyter notebook --notebook-dir=$(NOTEBOOK_DIR) $(if $(SUDO),,--allow-root) $(JUPYTER_FLAGS)

# The speed measurements of PERFORMANCE.md, each side by side in one run.
# SEARCH_STEPS=4000 (the default search, about 20 minutes here) for the
# search's steps/min; 0 skips it.
SEARCH_STEPS ?= 0
bench: build
	$(MULTIHW) bench infer --json
	$(MULTIHW) bench train --json
	go test -run NONE -bench Table ./hwcost
	$(MULTIHW) search bench --json --search-steps $(SEARCH_STEPS)

# The search evidence of nas/SEARCH_REPORT.md: the AVG and MAX searches, the
# equal-budget baselines on each trained supernet, a ranking study of each
# (24 architectures, 2 seeds for a third of them), then the report. Hours on 2
# cores; every step resumes where it stopped, so rerun the target after a kill.
# A smoke run: make search-evidence RUNS=/tmp/ev SEARCH_FLAGS=--quick RANK_FLAGS=--quick REPORT=/tmp/ev/report.md
# REPORT_FLAGS adds the report's other inputs (--trained, --bench, --ablation, --commands, --notes).
# A flag given twice is refused: T0 sets the searches' --t0, SEARCH_FLAGS adds other flags.
RUNS ?= runs/search
T0 ?= 1.0
SEARCH_FLAGS ?=
RANK_FLAGS ?= --archs 24 --seeds 2
REPORT ?= nas/SEARCH_REPORT.md
REPORT_FIGURES ?= $(dir $(REPORT))search_figures
REPORT_FLAGS ?=
search-evidence: build setup-data
	@mkdir -p $(RUNS)
	@set -e; for obj in avg max; do \
	  $(MULTIHW) search --objective $$obj --t0 $(T0) --out $(RUNS)/$$obj --resume $(SEARCH_FLAGS); \
	  for algo in random evolution; do \
	    test -f $(RUNS)/$$obj/baseline-$$algo.json || $(MULTIHW) search --algo $$algo --supernet $(RUNS)/$$obj; \
	  done; \
	  $(MULTIHW) search rank --supernet $(RUNS)/$$obj --out $(RUNS)/$$obj/rank $(RANK_FLAGS); \
	done
	$(MULTIHW) search report --search avg=$(RUNS)/avg,max=$(RUNS)/max --rank avg=$(RUNS)/avg/rank,max=$(RUNS)/max/rank \
	  --figures $(REPORT_FIGURES) --out $(REPORT) $(REPORT_FLAGS)

# The reproduction study (nas/study): AVG and MAX searches swept over T0 with
# two search seeds, single-target searches of the four Pixel 4 targets, every
# final architecture and the references retrained with one recipe and several
# seeds, then nas/SEARCH_REPORT.md with the claims (latency spreads and
# ordering probabilities from draws of the cost models' fitted parameters,
# hwcost.Sensitivity). Hours on 2 cores; every job resumes where it stopped:
# rerun the target after a kill.
#   make study STUDY_FLAGS="--pilot runs/pilot"   # with the pilot's size estimate in the report
#   make study-quick                              # the whole workflow with tiny settings (minutes)
# STUDY_REPORT_FLAGS adds `search report` inputs (e.g. the evidence runs of
# make search-evidence: --search avg=runs/search/avg --rank avg=runs/search/avg/rank).
STUDY ?= runs/study
STUDY_FLAGS ?=
STUDY_REPORT_FLAGS ?=
study: build setup-data
	$(MULTIHW) study plan --dir $(STUDY) $(STUDY_FLAGS)
	$(MULTIHW) study run --dir $(STUDY)
	$(MAKE) --no-print-directory study-report STUDY=$(STUDY) REPORT=$(REPORT) REPORT_FIGURES=$(REPORT_FIGURES)

study-report: build
	$(MULTIHW) study report --dir $(STUDY) --out $(REPORT) --figures $(REPORT_FIGURES) $(STUDY_REPORT_FLAGS)

study-quick:
	$(MAKE) --no-print-directory study STUDY=out/study-quick STUDY_FLAGS=--quick REPORT=out/study-quick/SEARCH_REPORT.md \
	  REPORT_FIGURES=out/study-quick/search_figures

# Notebooks 03-05 are committed with the outputs of the full study: this
# executes them in place with MULTIHW_FULL=1 on the study in $(STUDY) (which
# must be complete; they read it, they do not run it), then checks them
# against nas/SEARCH_REPORT.md (go test ./notebooks -run CommittedOutputs).
FULL_NOTEBOOKS = $(sort $(wildcard $(NOTEBOOK_DIR)/0[345]_*.ipynb))
notebooks-full: setup-notebooks setup-go setup-ort
	@test -f $(STUDY)/study.json || { echo "no study in $(STUDY): run make study first (STUDY=DIR)"; exit 1; }
	@set -e; for nb in $(FULL_NOTEBOOKS); do \
	  echo "executing $$nb on $(STUDY)"; \
	  MULTIHW_FULL=1 MULTIHW_RUNS=$(abspath $(STUDY)) jupyter nbconvert --to notebook --execute --inplace $$nb \
	    --ExecutePreprocessor.kernel_name=gonb --ExecutePreprocessor.timeout=$(NOTEBOOK_TIMEOUT); \
	done
	go test -count=1 -run 'CommittedOutputs' ./$(NOTEBOOK_DIR)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)
