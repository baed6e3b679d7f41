#!/usr/bin/env bash
# update-swagger-ui.sh - refresh the pinned copy of swagger-ui-dist in third_party/.
#
# Usage: scripts/update-swagger-ui.sh [VERSION]
#   VERSION  exact npm version to pin (default: the registry's current one,
#            from `npm view swagger-ui-dist version`)
#
# Fetches the package with `npm pack` into a temporary directory, copies only
# the files the embedded Swagger UI needs (no source maps, no ES bundles),
# and writes VERSION. The binary embeds these files at build time
# (src/ops/assets.cmake), so rebuild afterwards.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=$REPO/third_party/swagger-ui-dist
PACKAGE=swagger-ui-dist

# What the UI needs offline. The standalone preset is left out on purpose:
# our initializer uses BaseLayout, which does not need it.
REQUIRED=(swagger-ui-bundle.js swagger-ui.css favicon-32x32.png favicon-16x16.png LICENSE)
# Shipped alongside when the package has them: licence notices.
OPTIONAL=(NOTICE swagger-ui-bundle.js.LICENSE.txt)

die() {
    echo "update-swagger-ui: $*" >&2
    exit 1
}

command -v npm >/dev/null || die "npm not found (apt-get install npm)"

version=${1:-$(npm view "$PACKAGE" version)}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "not an exact version: '$version'"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT

echo "update-swagger-ui: fetching $PACKAGE@$version"
(cd "$work" && npm pack --silent "$PACKAGE@$version" >/dev/null)
tar -xzf "$work/$PACKAGE-$version.tgz" -C "$work"
src=$work/package

packed=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$src/package.json" | head -n 1)
[[ $packed == "$version" ]] || die "package.json says '$packed', wanted '$version'"

for f in "${REQUIRED[@]}"; do
    [[ -f $src/$f ]] || die "$PACKAGE@$version has no $f"
done

mkdir -p "$DEST"
# Drop files from the previous version, keep our own README.md.
find "$DEST" -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf -- {} +

for f in "${REQUIRED[@]}"; do
    cp -- "$src/$f" "$DEST/$f"
done
for f in "${OPTIONAL[@]}"; do
    if [[ -f $src/$f ]]; then
        cp -- "$src/$f" "$DEST/$f"
    fi
done
echo "$version" >"$DEST/VERSION"

# swagger-ui.css ends with a sourceMappingURL comment; the map is not
# shipped, so a browser's developer tools get a harmless 404 for it.
echo "update-swagger-ui: $PACKAGE $version now in ${DEST#"$REPO"/}:"
(cd "$DEST" && ls -l)
