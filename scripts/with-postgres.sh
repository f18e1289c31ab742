#!/usr/bin/env bash
# Runs a command with the test environment it needs.
set -euo pipefail
exec "$@"
