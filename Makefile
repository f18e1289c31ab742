# otelcol-zitadel — the two commands a newcomer needs are `make demo` and `make test`.
SHELL      := /bin/bash
MODULE     := github.com/otelcol-zitadel/zitadeltelemetry
BIN        := $(CURDIR)/.bin
GO         ?= go
PROTO_DIRS := $(shell find proto -name '*.proto' | xargs -n1 dirname | sort -u)

.PHONY: all build generate descriptors test test-unit bench otelcol demo lint clean

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

# Every test: unit, golden, the real PostgreSQL and the end-to-end collector run.
test:
	./scripts/with-postgres.sh $(GO) test -count=1 ./...

# Benchmarks; compare runs with benchstat (docs/benchmarks.md has the figures).
bench:
	./scripts/with-postgres.sh $(GO) test -run '^$$' -bench . -benchmem -count=6 ./... | tee bench.out

lint:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

clean:
	rm -rf $(BIN) build
