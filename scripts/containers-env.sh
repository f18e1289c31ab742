#!/usr/bin/env bash
# Sourced by the image build and its test: buildah and podman with a configuration of
# their own under build/containers, so that they work on a machine whose defaults they
# refuse and never touch the machine's own images. Three settings make them run where
# the kernel mounts cgroups v1 and v2 side by side (crun refuses that) and where
# overlay mounts and raised ulimits are not allowed:
#   runc as the runtime, the vfs storage driver, and no default ulimits.
# Set CONTAINERS_CONF and CONTAINERS_STORAGE_CONF beforehand to use your own instead.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/containers"
mkdir -p "$root"

if [[ -z ${CONTAINERS_CONF:-} ]]; then
	cat >"$root/containers.conf" <<CONF
[containers]
default_ulimits = []

[engine]
runtime = "runc"
CONF
	export CONTAINERS_CONF="$root/containers.conf"
fi

if [[ -z ${CONTAINERS_STORAGE_CONF:-} ]]; then
	cat >"$root/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$root/storage"
runroot = "$root/run"
CONF
	export CONTAINERS_STORAGE_CONF="$root/storage.conf"
fi
