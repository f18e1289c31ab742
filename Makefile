# otelcol-zitadel — the two commands a newcomer needs are `make demo` and `make test`.
SHELL      := /bin/bash
MODULE     := github.com/otelcol-zitadel/zitadeltelemetry
BIN        := $(CURDIR)/.bin
GO         ?= go

.PHONY: all build generate metadata descriptors test fuzz soak audit-kills bench otelcol image release demo graph lint lint-fix clean

OCB_VERSION := v0.165.0
OCB         := $(BIN)/builder
# Tools are defined before the rules that need them: make expands a rule's prerequisites as it
# reads the rule, so a tool defined further down is an empty prerequisite that is never built.
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT         := $(BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
OTELCOL     := build/otelcol-zitadel-src/otelcol-zitadel
# The collector is rebuilt only when the manifest or this module's sources change.
OTELCOL_SRC := builder-config.yaml go.mod go.sum $(shell git ls-files '*.go' 2>/dev/null | grep -v _test.go)

all: build

build:
	$(GO) build ./...

# Regenerates the protobuf and gRPC stubs under internal/gen from proto/.
# protoc comes from Debian's protobuf-compiler; the Go plugins are pinned as tools in go.mod.
generate:
	@command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler"; exit 1; }
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/ google.golang.org/protobuf/cmd/protoc-gen-go google.golang.org/grpc/cmd/protoc-gen-go-grpc
	protoc -I proto -I /usr/include \
	  --plugin=protoc-gen-go=$(BIN)/protoc-gen-go --plugin=protoc-gen-go-grpc=$(BIN)/protoc-gen-go-grpc \
	  --go_out=. --go_opt=module=$(MODULE) \
	  --go-grpc_out=. --go-grpc_opt=module=$(MODULE) \
	  $(shell find proto -name '*.proto' | sort)

# Regenerates each component's documentation.md, generated tests and internal/metadata from
# its metadata.yaml. mdatagen is pinned as a tool in go.mod (v0.159.0, the release the proxy
# serves); its output builds against this module's v0.165 collector.
COMPONENT_DIRS := zitadelreceiver zitadelexporter zitadeltelemetryreceiver
# The zitadel receiver and the zitadeltelemetry exporter live in the root package, which Go
# keeps from importing zitadelreceiver/internal: their generated package (generated_package_name
# in metadata.yaml) moves to the module's internal/, where the root and the receiver's sources
# import its status and telemetry builder. Its metrics builder, config and resource code are
# dropped: internal/contract builds the data metrics (its package documentation says why).
# The zitadeltelemetry receiver keeps its generated package in its own internal/metadata, cut
# to the same three files: the rest (metrics builder, config, resource, metadatatest) is
# dropped for the same reason. `go generate` is not used: this rule is the one way.
ROOT_COMPONENTS := zitadelreceiver zitadelexporter
KEPT_GENERATED  := generated_{status,telemetry,telemetry_test}.go
metadata:
	for d in $(COMPONENT_DIRS); do (cd $$d && $(GO) tool mdatagen metadata.yaml) || exit 1; done
	for d in $(ROOT_COMPONENTS); do \
	  rm -rf internal/$${d}metadata && mkdir internal/$${d}metadata && \
	  mv $$d/internal/$${d}metadata/$(KEPT_GENERATED) internal/$${d}metadata/ && \
	  rm -rf $$d/internal || exit 1; \
	done
	cd zitadeltelemetryreceiver/internal && rm -rf metadatatest metadata.kept && mkdir metadata.kept && \
	  mv metadata/$(KEPT_GENERATED) metadata.kept/ && rm -rf metadata && mv metadata.kept metadata

# Rebuilds ZITADEL's official descriptor set, which the conformance test in internal/gen checks
# our proto/ subsets against, from the descriptors embedded in the npm package @zitadel/proto.
ZITADEL_PROTO_VERSION := 1.3.1
descriptors:
	@command -v npm >/dev/null || { echo "npm missing: apt-get install -y npm"; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  npm pack --silent --pack-destination "$$tmp" @zitadel/proto@$(ZITADEL_PROTO_VERSION) >/dev/null && \
	  $(GO) run ./internal/tools/descriptorset -tgz "$$tmp/zitadel-proto-$(ZITADEL_PROTO_VERSION).tgz" \
	    -out testdata/zitadel-proto-$(ZITADEL_PROTO_VERSION).binpb

# Every test: golangci-lint, unit, golden, the real PostgreSQL and the end-to-end collector run.
test: $(OTELCOL) $(GOLANGCI_LINT)
	OTELCOL_ZITADEL_BIN=$(CURDIR)/$(OTELCOL) GOLANGCI_LINT=$(GOLANGCI_LINT) ./scripts/test.sh

# Every fuzz target for FUZZTIME each (make test runs FuzzConfig for 20 s). A failing
# input lands in the package's testdata/fuzz/<target>/; keep it there as a corpus entry.
FUZZTIME ?= 5m
fuzz:
	./scripts/fuzz.sh $(FUZZTIME)

# The full soak through the built collector: 200 scrape-and-report cycles of a
# 1,000-organization ZITADEL (ten pipelines of one otelcol-zitadel, each scraping once a
# minute) with 5 % of ZITADEL's and the endpoint's calls failing, and the database pipeline's
# connections killed mid-read and PostgreSQL restarted; make test runs a short one without the
# restart. Figures in docs/benchmarks.md; the log is build/soak.log.
soak: $(OTELCOL)
	@mkdir -p build
	set -o pipefail; OTELCOL_ZITADEL_BIN=$(CURDIR)/$(OTELCOL) ./scripts/with-postgres.sh \
	  $(GO) test -count=1 -v -timeout 1h -run '^TestSoak' ./internal/e2e \
	  -args -soak.cycles 200 -soak.pipelines 10 -soak.orgs 1000 -soak.warm 20 -soak.restart-postgres | tee build/soak.log

# The audit trail's exactly-once check at full size: 1,000,000 events written with
# out-of-order commits while the built collector delivers them to an OTLP/HTTP log store and
# is killed with SIGKILL three times; make test runs it with 20,000. The report (events
# written, delivered, lost, repeated, under a second uid) is build/audit-kills.txt.
audit-kills: $(OTELCOL)
	@mkdir -p build && rm -f build/audit-kills.txt
	AUDIT_KILLS_REPORT=$(CURDIR)/build/audit-kills.txt OTELCOL_ZITADEL_BIN=$(CURDIR)/$(OTELCOL) ./scripts/with-postgres.sh \
	  $(GO) test -count=1 -v -timeout 1h -run '^TestAuditTrailSurvivesKills$$' ./internal/e2e -args -audit.events 1000000 -audit.kills 3

# Benchmarks into build/bench.out; compare runs with benchstat (docs/benchmarks.md has the
# figures and the narrower commands). Each benchmark op is a whole report or scrape.
# pipefail: a failing benchmark fails the target although its output goes through tee.
BENCH     ?= .
BENCHTIME ?= 3x
COUNT     ?= 6
bench:
	@mkdir -p build
	set -o pipefail; ./scripts/with-postgres.sh $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem -count $(COUNT) ./... | tee build/bench.out

# golangci-lint at its pinned version (GOLANGCI_LINT_VERSION, above), installed under a name
# that carries the version, so that changing the version installs it anew.
$(GOLANGCI_LINT):
	@mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(BIN)/golangci-lint $@

# ocb is installed into the project-local bin directory; its generated sources are build output.
$(OCB):
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

otelcol: $(OTELCOL)

$(OTELCOL): $(OCB) $(OTELCOL_SRC)
	@mkdir -p build
	$(OCB) --config builder-config.yaml
	@touch $@

# The version `make image` and `make release` stamp into --version, the collector's build
# info and the image's labels: builder-config.yaml's unless VERSION is given.
VERSION  ?= $(shell sed -n 's/^  version: *//p' builder-config.yaml)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

# The OCI image with buildah (Debian's buildah package), tagged
# localhost/otelcol-zitadel:$(VERSION) in the containers storage of the environment
# (CONTAINERS_STORAGE_CONF; make test uses its own, scripts/containers-env.sh), and as an
# archive under build/image/ that `podman load -i` or `docker load -i` takes.
image: $(OCB)
	VERSION=$(VERSION) REVISION=$(REVISION) OCB=$(OCB) ./scripts/image.sh

# Static binaries for each platform into build/release/ with their SHA-256 sums; the one
# for this machine must print the stamped version.
RELEASE_PLATFORMS := linux/amd64 linux/arm64 darwin/arm64 windows/amd64
release: $(OCB)
	rm -rf build/release
	VERSION=$(VERSION) OCB=$(OCB) ./scripts/build-dist.sh build/release $(RELEASE_PLATFORMS)
	cd build/release && sha256sum otelcol-zitadel_* >SHA256SUMS
	@bin=build/release/otelcol-zitadel_$(VERSION)_$$($(GO) env GOOS)_$$($(GO) env GOARCH); \
	  test ! -x "$$bin" || [[ "$$($$bin --version)" == "otelcol-zitadel version $(VERSION)" ]] || \
	  { echo "$$bin --version does not print $(VERSION)"; exit 1; }
	@cat build/release/SHA256SUMS

# The main job on the embedded default: simulated ZITADEL -> otelcol-zitadel -> a
# local telemetry endpoint; prints what arrived and stops everything it started.
demo: $(OTELCOL)
	$(GO) build -o $(BIN)/otelcol-zitadel-demo ./cmd/otelcol-zitadel-demo
	$(BIN)/otelcol-zitadel-demo -collector $(OTELCOL) -config testdata/demo.yaml

# Prometheus' graph of users per instance while the built collector scrapes a
# growing simulated ZITADEL, rendered by headless Chromium (Debian's chromium)
# into build/users-per-instance.png.
graph: $(OTELCOL)
	@command -v chromium >/dev/null || { echo "chromium missing: apt-get install -y chromium"; exit 1; }
	OTELCOL_ZITADEL_BIN=$(CURDIR)/$(OTELCOL) $(GO) test -count=1 -tags render -run '^TestRenderUsersGraph$$' -v ./internal/e2e

# The linters and formatters of .golangci.yml (the collector-contrib set) over both modules;
# `make lint-fix` applies the formatters.
lint: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) run ./...
	cd deploy && $(GOLANGCI_LINT) run ./...

lint-fix: $(GOLANGCI_LINT)
	$(GOLANGCI_LINT) fmt ./...
	cd deploy && $(GOLANGCI_LINT) fmt ./...

clean:
	rm -rf $(BIN) build
