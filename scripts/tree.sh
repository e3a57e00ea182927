#!/bin/bash
# Create or update the kernel tree out/linux: pristine source as one commit
# tagged `base`, then the series from patches/ applied with `git am`.
#
# The tree is never thrown away while it holds work that is not in patches/:
# uncommitted edits, untracked files, or commits that differ from both
# patches/ and what was last applied or exported. In that case it refuses.
# FORCE=1 discards such work (after saving it as a branch).
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

STAMP=$TREE/.git/hmm-synced	# HEAD right after the last apply or export

git_t() { git -C "$TREE" "$@"; }

# The series as `make export` would write it, into directory $1.
export_series() {
	local dir=$1
	rm -rf "$dir"; mkdir -p "$dir"
	git_t -c core.abbrev=12 format-patch -q --zero-commit --no-signature \
		--full-index --no-numbered -o "$dir" base..HEAD
	(cd "$dir" && find . -maxdepth 1 -name '*.patch' | sed 's#^\./##' | sort) > "$dir/series"
}

# A digest of a series directory: patch names and contents, in series order.
series_digest() {
	local d=$1 f
	[ -f "$d/series" ] || return 0
	grep -v '^#' "$d/series" | while read -r f; do
		[ -n "$f" ] || continue
		echo "$f"
		sha256sum < "$d/$f"
	done | sha256sum
}

# Does the tree's base..HEAD equal patches/ byte for byte?
tree_matches_patches() {
	local tmp=$OUT/.series-check a b
	export_series "$tmp"
	a=$(series_digest "$tmp")
	b=$(series_digest "$PATCHES")
	rm -rf "$tmp"
	[ "$a" = "$b" ]
}

apply_series() {
	local n=0 p
	[ -f "$PATCHES/series" ] || return 0
	while read -r p <&3; do
		[ -n "$p" ] || continue
		[ -f "$PATCHES/$p" ] || die "patches/series names $p, which does not exist"
		if ! git_t am -q --keep-cr "$PATCHES/$p" >"$LOGS/git-am.log" 2>&1; then
			git_t am --abort >/dev/null 2>&1 || true
			cat "$LOGS/git-am.log" >&2
			die "patch $p does not apply on top of the previous ones (log: $LOGS/git-am.log)"
		fi
		n=$((n + 1))
		# A partly applied series is still "synced": nothing to lose.
		git_t rev-parse HEAD > "$STAMP"
	done 3< <(grep -v '^#' "$PATCHES/series")
	phase "applied $n patches"
}

create_tree() {
	local ver tarball=/usr/src/$LINUX_SOURCE_PACKAGE.tar.xz
	ver=$(installed_source_version)
	[ -f "$tarball" ] || die "$tarball is missing (run scripts/deps.sh)"
	phase "unpacking $LINUX_SOURCE_PACKAGE $ver"
	rm -rf "$TREE.tmp"; mkdir -p "$TREE.tmp"
	tar -C "$TREE.tmp" -xf "$tarball" --strip-components=1
	(
		cd "$TREE.tmp"
		git init -q -b hmm
		git config user.name "HMM mirror CI"; git config user.email "hmm-ci@localhost"
		git config core.abbrev 12
		git config gc.auto 0	# no background repack of the 80k-file base commit
		# Debian's tarball carries a .gitignore that ignores everything at
		# the top level (its packaging repository layout): new files of the
		# series would be invisible to git. Drop those lines; nothing else
		# of the source is touched.
		sed -i '/^# Debian packaging: ignore everything/,/^!\/debian\/$/d' .gitignore
		sed -i '${/^#$/d}' .gitignore
		git add -A -f .
		GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
			git commit -q -m "Linux $(make -s kernelversion) from Debian $LINUX_SOURCE_PACKAGE $ver" \
				-m "Pristine source, except that Debian's top-level ignore-everything lines are dropped from .gitignore."
		git tag base
		echo "$ver" > .git/hmm-base-version
	)
	mv "$TREE.tmp" "$TREE"
	git_t rev-parse HEAD > "$STAMP"
}

mkdir -p "$OUT" "$LOGS"
want=$(installed_source_version)
[ -n "$want" ] || die "$LINUX_SOURCE_PACKAGE is not installed (run scripts/deps.sh)"
[ "$want" = "$LINUX_SOURCE_VERSION" ] ||
	echo "NOTE: using $LINUX_SOURCE_PACKAGE $want instead of the pinned $LINUX_SOURCE_VERSION"

if [ -d "$TREE/.git" ] && git_t rev-parse -q --verify base >/dev/null; then
	have=$(cat "$TREE/.git/hmm-base-version" 2>/dev/null || echo unknown)
	work=
	[ -z "$(git_t status --porcelain)" ] || work="uncommitted changes or untracked files"
	[ -e "$TREE/.git/rebase-apply" ] || [ -e "$TREE/.git/rebase-merge" ] && work="a rebase or git am in progress"
	if [ -z "$work" ] && [ "$have" = "$want" ] && tree_matches_patches; then
		phase "kernel tree is up to date with patches/ ($(git_t rev-list --count base..HEAD) patches on $LINUX_SOURCE_PACKAGE $have)"
		git_t rev-parse HEAD > "$STAMP"
		exit 0
	fi
	if [ -z "$work" ] && [ "$(git_t rev-parse HEAD)" != "$(cat "$STAMP" 2>/dev/null)" ]; then
		work="commits that are not exported (base..HEAD differs from patches/)"
	fi
	if [ -n "$work" ] && [ "${FORCE:-0}" != 1 ]; then
		cat >&2 <<MSG
ERROR: out/linux holds $work.
Refusing to recreate the tree: that work would be lost.
  - to keep it:    commit it in out/linux, then 'make export' and commit patches/
  - to drop it:    'make tree FORCE=1' (saves HEAD as branch 'discarded-<time>' first)
MSG
		exit 1
	fi
	if [ -n "$work" ]; then
		b=discarded-$(date +%Y%m%d-%H%M%S)
		git_t stash -q -u >/dev/null 2>&1 || true
		git_t branch "$b" HEAD
		echo "NOTE: FORCE=1: saved the old HEAD as branch $b in out/linux"
		git_t am --abort >/dev/null 2>&1 || true
		git_t rebase --abort >/dev/null 2>&1 || true
	fi
	if [ "$have" != "$want" ]; then
		phase "base changed ($have -> $want): recreating the tree"
		rm -rf "$TREE"
		create_tree
	else
		phase "patches/ changed: re-applying the series on base"
		git_t checkout -q -B hmm base
		git_t reset -q --hard base
		git_t rev-parse HEAD > "$STAMP"
	fi
else
	[ ! -e "$TREE" ] || { [ "${FORCE:-0}" = 1 ] || die "out/linux exists but is not a tree made by this script; move it away or use FORCE=1"; rm -rf "$TREE"; }
	create_tree
fi
apply_series
git_t rev-parse HEAD > "$STAMP"
