#!/usr/bin/env bash
# Builds otelcol-zitadel with VERSION stamped into --version and the collector's
# build info, for each GOOS/GOARCH given, into OUTDIR as
# otelcol-zitadel_<version>_<os>_<arch>[.exe]: static (CGO_ENABLED=0), stripped,
# with Go's own build info (module versions) kept.
# ocb generates the sources from builder-config.yaml with the version put in.
#   VERSION=0.1.0 OCB=.bin/builder scripts/build-dist.sh build/release linux/amd64 darwin/arm64
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VERSION:?set VERSION}" "${OCB:?set OCB to ocb (make otelcol installs it into .bin/builder)}"
[[ $VERSION =~ ^[0-9A-Za-z][0-9A-Za-z._-]*$ ]] || { echo "VERSION $VERSION: use letters, digits, '.', '-' and '_'" >&2; exit 1; }
out=$1
shift

# Sources of their own, so that make image and make release can run side by side.
mkdir -p build "$out"
src=$(mktemp -d build/dist-src.XXXXXX)
manifest=$src.yaml
trap 'rm -rf "$src" "$manifest" "$src.log"' EXIT
sed -e "s|^  version: .*|  version: $VERSION|" -e "s|^  output_path: .*|  output_path: ./$src|" \
	builder-config.yaml >"$manifest"
grep -q "^  version: $VERSION\$" "$manifest" || { echo "builder-config.yaml has no dist version line to stamp" >&2; exit 1; }
"$OCB" --config "$manifest" --skip-compilation >"$src.log" 2>&1 || { cat "$src.log" >&2; exit 1; }

outabs=$(cd "$out" && pwd)
for target in "$@"; do
	goos=${target%/*} goarch=${target#*/}
	ext=""
	[[ $goos == windows ]] && ext=.exe
	bin="$outabs/otelcol-zitadel_${VERSION}_${goos}_${goarch}$ext"
	echo "build-dist: $bin" >&2
	(cd "$src" && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch go build -trimpath -ldflags='-s -w' -o "$bin" .)
done
