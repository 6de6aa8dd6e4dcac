#!/usr/bin/env bash
# Vendors the built DSFR files the pages use, from `npm pack @gouvfr/dsfr@1.15.3` (run once by a
# developer; npm is not part of the build nor of CI). Usage: static/vendor.sh DIR_OF_UNPACKED_PACKAGE
set -euo pipefail
src="$1/dist"
dest="$(dirname "$0")/dsfr-1.15.3"
rm -rf "$dest"; mkdir -p "$dest/fonts" "$dest/icons" "$dest/favicon"
cp "$src/dsfr.min.css" "$src/dsfr.print.min.css" "$src/dsfr.module.min.js" "$dest/"
cp "$1/LICENSE.md" "$dest/LICENSE.md"
cp "$src"/fonts/*.woff2 "$dest/fonts/"
cp "$src/favicon/favicon.svg" "$src/favicon/favicon.ico" "$dest/favicon/"
# The icons the stylesheet references, and the few the pages use (static/offerwatch.css).
{ grep -o 'url(icons/[^)]*)' "$src/dsfr.min.css" | sed 's/^url(//; s/)$//'
  grep -o 'url(dsfr-1.15.3/icons/[^)]*)' "$(dirname "$0")/offerwatch.css" | sed 's/^url(dsfr-1.15.3\///; s/)$//'; } |
  sort -u | while read -r icon; do
    mkdir -p "$dest/$(dirname "$icon")"; cp "$src/$icon" "$dest/$icon"
  done
