#!/bin/bash
# Export out/linux base..HEAD into patches/ (format-patch files + series).
# Output is stable: zero commit ids, no version signature, full blob ids,
# no [PATCH n/m] numbering. patches/0000-cover-letter.patch is kept as is.
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

[ -d "$TREE/.git" ] || die "no kernel tree at out/linux (make tree)"
[ -z "$(git -C "$TREE" status --porcelain)" ] ||
	die "out/linux has uncommitted changes or untracked files: commit them first (git -C out/linux status)"

tmp=$OUT/.export
rm -rf "$tmp"; mkdir -p "$tmp"
git -C "$TREE" -c core.abbrev=12 format-patch -q --zero-commit --no-signature \
	--full-index --no-numbered -o "$tmp" base..HEAD
mkdir -p "$PATCHES"
find "$PATCHES" -maxdepth 1 -name '*.patch' ! -name '0000-cover-letter.patch' -delete
n=0
: > "$PATCHES/series"
for f in $(cd "$tmp" && find . -maxdepth 1 -name '*.patch' | sed 's#^\./##' | sort); do
	mv "$tmp/$f" "$PATCHES/$f"
	echo "$f" >> "$PATCHES/series"
	n=$((n + 1))
done
rm -rf "$tmp"
git -C "$TREE" rev-parse HEAD > "$TREE/.git/hmm-synced"
echo "exported $n patches to patches/ (commit them: git add -A patches && git commit)"
