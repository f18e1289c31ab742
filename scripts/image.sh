#!/usr/bin/env bash
# Builds the otelcol-zitadel OCI image with buildah from scratch: the static binary
# (scripts/build-dist.sh), Debian's CA certificates, a non-root user, no shell, the
# default configuration of deploy/image/config.yaml, the version and the source
# revision as OCI labels. Tags localhost/otelcol-zitadel:VERSION and writes
# build/image/otelcol-zitadel_VERSION.oci.tar (podman load -i ...).
#   VERSION=0.1.0 REVISION=$(git rev-parse HEAD) OCB=.bin/builder scripts/image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
: "${VERSION:?set VERSION}" "${REVISION:?set REVISION}" "${OCB:?set OCB}"
certs=/etc/ssl/certs/ca-certificates.crt
command -v buildah >/dev/null || { echo "buildah missing: apt-get install -y buildah" >&2; exit 1; }
[[ -r $certs ]] || { echo "$certs missing: apt-get install -y ca-certificates" >&2; exit 1; }

arch=$(go env GOARCH)
scripts/build-dist.sh build/image "linux/$arch"
bin=build/image/otelcol-zitadel_${VERSION}_linux_${arch}
# The stamped version is what --version prints; a mismatch stops the build.
got=$("$bin" --version)
[[ $got == "otelcol-zitadel version $VERSION" ]] || { echo "image: $bin --version says '$got', not $VERSION" >&2; exit 1; }

rootfs=build/image/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/etc/otelcol-zitadel"
echo "otelcol:x:10001:10001:otelcol-zitadel:/:/sbin/nologin" >"$rootfs/etc/passwd"
echo "otelcol:x:10001:" >"$rootfs/etc/group"
cp "$certs" "$rootfs/etc/ssl/certs/ca-certificates.crt"
cp deploy/image/config.yaml "$rootfs/etc/otelcol-zitadel/config.yaml"
cp "$bin" "$rootfs/otelcol-zitadel"
chmod 0644 "$rootfs"/etc/passwd "$rootfs"/etc/group "$rootfs"/etc/ssl/certs/* "$rootfs"/etc/otelcol-zitadel/*
chmod 0755 "$rootfs/otelcol-zitadel"

image=localhost/otelcol-zitadel:$VERSION
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null' EXIT
buildah copy --quiet --chown 0:0 "$ctr" "$rootfs" / >/dev/null
buildah config \
	--user 10001:10001 \
	--entrypoint '["/otelcol-zitadel"]' \
	--cmd '--config=/etc/otelcol-zitadel/config.yaml' \
	--port 4320/tcp --port 8889/tcp --port 8888/tcp --port 13133/tcp \
	--label org.opencontainers.image.title=otelcol-zitadel \
	--label "org.opencontainers.image.description=OpenTelemetry Collector with the ZITADEL receivers and telemetry exporter" \
	--label "org.opencontainers.image.version=$VERSION" \
	--label "org.opencontainers.image.revision=$REVISION" \
	"$ctr"
buildah commit --quiet --format oci --rm "$ctr" "$image" >/dev/null
trap - EXIT
archive=build/image/otelcol-zitadel_${VERSION}.oci.tar
rm -f "$archive"
buildah push --quiet "$image" "oci-archive:$archive:$image"
echo "image: $image ($(du -h "$archive" | cut -f1) as $archive)"
