#!/usr/bin/env bash
# Runs every test with the environment it needs and prints a summary line
# ("N passed, N failed, N skipped"). The full verbose log is kept in build/test.log.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
log=build/test.log

# Prometheus and promtool (the dashboard and rules tests) come from Debian's
# prometheus package, installed here when missing and running as root. Without
# them those tests skip, or fail with CI=true.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
		echo "test: installing Prometheus from Debian packages" >&2
		export DEBIAN_FRONTEND=noninteractive
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus; } >&2 ||
			{ echo "test: installing prometheus failed" >&2; exit 1; }
	else
		echo "test: Prometheus is not installed and this is not root; its tests skip (as root: apt-get install -y prometheus)" >&2
	fi
fi

./scripts/with-postgres.sh go test -count=1 -v "$@" ./... >"$log" 2>&1
status=$?

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
