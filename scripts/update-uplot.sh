#!/usr/bin/env bash
# update-uplot.sh - refresh the pinned copy of uPlot (the dashboard's chart library) in
# third_party/uplot/.
#
# Usage: scripts/update-uplot.sh [VERSION]
#   VERSION  exact npm version to pin (default: the registry's current one)
#
# Fetches the package with `npm pack`, copies the minified browser build, its stylesheet and
# the licence, and writes VERSION. The binary embeds them at build time: rebuild afterwards.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEST=$REPO/third_party/uplot
PACKAGE=uplot
FILES=(dist/uPlot.iife.min.js dist/uPlot.min.css LICENSE)

die() {
    echo "update-uplot: $*" >&2
    exit 1
}

command -v npm >/dev/null || die "npm not found (apt-get install npm)"
version=${1:-$(npm view "$PACKAGE" version)}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "not an exact version: '$version'"

work=$(mktemp -d)
trap 'rm -rf -- "$work"' EXIT
echo "update-uplot: fetching $PACKAGE@$version"
(cd "$work" && npm pack --silent "$PACKAGE@$version" >/dev/null)
tar -xzf "$work/$PACKAGE-$version.tgz" -C "$work"

for f in "${FILES[@]}"; do
    [[ -f $work/package/$f ]] || die "$PACKAGE@$version has no $f"
    cp "$work/package/$f" "$DEST/"
done
echo "$version" >"$DEST/VERSION"
echo "update-uplot: pinned $PACKAGE@$version in third_party/uplot"
