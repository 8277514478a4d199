#!/usr/bin/env bash
# buildah with the project's own image store (.tools/containers, vfs driver): works
# without a container engine, a daemon or overlay support. `make image` and the
# image smoke test both go through it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)/.tools/containers
exec buildah --root "$root/storage" --runroot "$root/run" --storage-driver vfs "$@"
