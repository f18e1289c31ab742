#!/usr/bin/env bash
# Runs fuzz targets, each for a bounded time:
#
#   scripts/fuzz.sh 20s FuzzConfig              one target
#   scripts/fuzz.sh 5m                          every target of the module
#
# An input that fails is written by Go into the package's testdata/fuzz/<target>/
# and from then on runs with every plain `go test` as a corpus entry: commit it
# with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:?usage: scripts/fuzz.sh DURATION [TARGET...]}
shift
want=("$@")

status=0
# "package target" for every Fuzz function in a test file.
while read -r file target; do
	if [[ ${#want[@]} -gt 0 && ! " ${want[*]} " == *" $target "* ]]; then
		continue
	fi
	pkg="./$(dirname "$file")"
	echo "fuzz: $target in $pkg for $fuzztime"
	if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"; then
		echo "fuzz: $target failed; the input is in $pkg/testdata/fuzz/$target/" >&2
		status=1
	fi
done < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed -E 's|^\./||; s|:func | |' | sort)
exit $status
