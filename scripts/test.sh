#!/usr/bin/env bash
# Runs every test with the environment it needs and prints a summary line
# ("N passed, N failed, N skipped"). The full verbose log is kept in build/test.log.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
log=build/test.log

# Prometheus and promtool (the dashboard and rules tests) come from Debian's
# prometheus package; buildah, podman and runc (the image test) and the CA
# certificates the image carries from theirs; ss from iproute2. They are installed here when
# missing and running as root. Without them those tests skip, or fail with CI=true.
missing=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
for tool in buildah podman runc; do
	command -v "$tool" >/dev/null || missing+=("$tool")
done
[[ -r /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
# ss (iproute2) aborts the telemetry receiver's listening socket under the built collector.
command -v ss >/dev/null || missing+=(iproute2)
if ((${#missing[@]})); then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "test: installing ${missing[*]} from Debian packages" >&2
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 ||
			{ echo "test: installing ${missing[*]} failed" >&2; exit 1; }
	else
		echo "test: ${missing[*]} not installed and this is not root; their tests skip (as root: apt-get install -y ${missing[*]})" >&2
	fi
fi

# The image, built with a version of its own so that the image test sees it
# stamped, in a containers storage of the test's own (scripts/containers-env.sh).
image_status=0
if command -v buildah >/dev/null && command -v podman >/dev/null; then
	source scripts/containers-env.sh
	image_version="$(sed -n 's/^  version: *//p' builder-config.yaml)-test"
	if make --no-print-directory image VERSION="$image_version" >build/image.log 2>&1; then
		export OTELCOL_ZITADEL_IMAGE=localhost/otelcol-zitadel:$image_version
		tail -1 build/image.log
	else
		echo "--- FAIL: make image (build/image.log)"
		tail -20 build/image.log
		image_status=1
	fi
fi

./scripts/with-postgres.sh go test -count=1 -v "$@" ./... >"$log" 2>&1
status=$?

# golangci-lint as make lint runs it, over both modules, with the pinned binary make test passes.
if [[ -n ${GOLANGCI_LINT:-} ]]; then
	if ! make --no-print-directory lint GOLANGCI_LINT="$GOLANGCI_LINT" >build/lint.log 2>&1; then
		echo "--- FAIL: golangci-lint (build/lint.log)" | tee -a "$log"
		tail -20 build/lint.log
		status=1
	fi
fi
((image_status == 0)) || status=1

# The Kubernetes manifests, Helm values and Operator resource: a module of its own
# (deploy/), so that the Kubernetes API types stay out of the collector's build.
(cd deploy && go test -count=1 -v "$@" ./...) >>"$log" 2>&1 || status=1

# The test image is not kept: the archive under build/image/ holds it.
[[ -z ${OTELCOL_ZITADEL_IMAGE:-} ]] || podman rmi --force "$OTELCOL_ZITADEL_IMAGE" >/dev/null 2>&1 || true

# The configuration fuzzer for a bounded time on top of its corpus (make fuzz
# runs every fuzz target for longer).
if ! ./scripts/fuzz.sh "${CONFIG_FUZZTIME:-20s}" FuzzConfig >>"$log" 2>&1; then
	echo "--- FAIL: FuzzConfig (fuzzing; the failing input is under the package's testdata/fuzz/FuzzConfig/)" | tee -a "$log"
	status=1
fi

# Package results and any failure detail, without the verbose pass lines.
grep -E '^(ok|FAIL|---|panic:|\s+--- FAIL|\s+\S+\.go:[0-9]+:)|no test files' "$log" | grep -v -- '--- PASS\|--- SKIP' || true
passed=$(grep -cE '^\s*--- PASS' "$log")
failed=$(grep -cE '^\s*--- FAIL' "$log")
skipped=$(grep -cE '^\s*--- SKIP' "$log")
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit $status
