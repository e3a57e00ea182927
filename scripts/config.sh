#!/bin/bash
# Configure a kernel build: tinyconfig + config/hmm.config (+
# config/debug.config with DEBUG=1) + any --fragment FILE, merged with the
# tree's merge_config.sh, into $BUILD (out/build/<flavor> unless HMM_BUILD
# says otherwise). Fails loudly if an option asked for in a fragment did
# not survive olddefconfig, unless --no-check (bisect builds of earlier
# commits, which lack options that later ones add).
. "$(dirname "$0")/common.sh"

check=1
frags=("$TOP/config/hmm.config")
[ "$FLAVOR" = debug ] && frags+=("$TOP/config/debug.config")
while [ $# -gt 0 ]; do
	case $1 in
	--no-check) check=0 ;;
	--fragment) frags+=("$2"); shift ;;
	*) die "config.sh: unknown argument $1" ;;
	esac
	shift
done
mkdir -p "$BUILD"

# Skip the work when neither the fragments nor the tree's Kconfig changed.
key=$( (cat "${frags[@]}"; git -C "$TREE" rev-parse HEAD:) | sha256sum | cut -c1-16)
if [ -f "$BUILD/.config" ] && [ "$(cat "$BUILD/.config-key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi
phase "configuring ($(basename "$BUILD")): tinyconfig + ${frags[*]##*/}"
log=$BUILD/config.log
tmp=$BUILD/.config.new
rm -f "$tmp"
(
	kernel_make KCONFIG_CONFIG=.config.new tinyconfig
	cd "$BUILD"
	KCONFIG_CONFIG=.config.new "$TREE/scripts/kconfig/merge_config.sh" -m -O "$BUILD" .config.new "${frags[@]}"
	cd "$TOP"
	kernel_make KCONFIG_CONFIG=.config.new olddefconfig
) >"$log" 2>&1 || { tail -n 30 "$log"; die "configuration failed (log: $log)"; }

# Every option a fragment asks for, as the last fragment that names it
# asks for it.
bad=0
declare -A want=()
while IFS= read -r line; do
	want[${line%%=*}]=$line
done < <(cat "${frags[@]}" | sed -e 's/^# \(CONFIG_[A-Za-z0-9_]*\) is not set$/\1=n/' -e 's/[[:space:]]*#.*//' | grep '^CONFIG_')
for opt in "${!want[@]}"; do
	line=${want[$opt]}
	case "$line" in
	*=n)
		if grep -q "^$opt=" "$tmp"; then
			echo "CONFIG CHECK: $opt should be off but is $(grep "^$opt=" "$tmp")" >&2
			bad=1
		fi ;;
	*)
		if ! grep -qxF "$line" "$tmp"; then
			got=$(grep -E "^($opt=|# $opt is not set)" "$tmp" || echo "absent")
			echo "CONFIG CHECK: wanted $line, got: $got" >&2
			bad=1
		fi ;;
	esac
done
[ $bad = 0 ] || [ $check = 0 ] || die "required kernel options did not survive olddefconfig (see above; fragment dependencies missing?)"
# Only replace .config when it changed, so make does not rebuild for nothing.
if ! cmp -s "$tmp" "$BUILD/.config"; then mv "$tmp" "$BUILD/.config"; else rm -f "$tmp"; fi
echo "$key" > "$BUILD/.config-key"
