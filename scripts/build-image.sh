#!/usr/bin/env bash
# Builds the Dockerfile with buildah (chroot isolation, vfs storage): `make image`.
#
#   scripts/build-image.sh [IMAGE]        default localhost/service-recovery:dev
#
# The base image comes from BASE_IMAGE (default debian:bookworm-slim, as in the
# Dockerfile). Where no container registry can be reached, a stand-in for it is made
# from Debian's own packages: `debootstrap --variant=minbase bookworm`, the same
# build the official slim image starts from. The script says which base it used.
# A CA bundle (PIP_CERT, else the system bundle) is passed as the build secret
# `ca-bundle`, for networks that inspect TLS.
set -euo pipefail
cd "$(dirname "$0")/.."

image=${1:-localhost/service-recovery:dev}
base=${BASE_IMAGE:-debian:bookworm-slim}
standin=localhost/debian-bookworm-minbase:latest
buildah=(bash scripts/buildah.sh)

need() {
    command -v "$1" >/dev/null && return
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing $2 (apt)" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
        echo "$1 is missing: install the $2 package" >&2
        exit 2
    fi
}
need buildah buildah

if "${buildah[@]}" inspect --type image "$base" >/dev/null 2>&1 \
        || "${buildah[@]}" pull --quiet "$base" >/dev/null 2>&1; then
    echo "base image: $base" >&2
else
    echo "base image: $base cannot be pulled here; using $standin (debootstrap minbase bookworm)" >&2
    if ! "${buildah[@]}" inspect --type image "$standin" >/dev/null 2>&1; then
        need debootstrap debootstrap
        work=$(mktemp -d)
        trap 'rm -rf "$work"' EXIT
        debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/log" 2>&1 \
            || { cat "$work/log" >&2; exit 1; }
        rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
        tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
        ctr=$("${buildah[@]}" from scratch)
        "${buildah[@]}" add "$ctr" "$work/rootfs.tar" / >/dev/null
        "${buildah[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            --cmd /bin/bash "$ctr"
        "${buildah[@]}" commit --quiet --rm "$ctr" "$standin" >/dev/null
    fi
    base=$standin
fi

ca=${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$ca" ] && secret=(--secret "id=ca-bundle,src=$ca")

"${buildah[@]}" bud --isolation chroot --format docker --layers \
    --build-arg "BASE_IMAGE=$base" "${secret[@]}" \
    --tag "$image" --file Dockerfile .
# vfs stores every layer as a full copy: drop the images earlier builds left untagged.
"${buildah[@]}" rmi --prune >/dev/null 2>&1 || true
echo "built $image" >&2
