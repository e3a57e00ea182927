#!/bin/bash
# Configure the kernel build in out/build/<flavor>: tinyconfig + config/hmm.config
# (+ config/debug.config with DEBUG=1), merged with the tree's merge_config.sh.
# Fails loudly if a requested option did not survive olddefconfig.
. "$(dirname "$0")/common.sh"

frags=("$TOP/config/hmm.config")
[ "$FLAVOR" = debug ] && frags+=("$TOP/config/debug.config")
mkdir -p "$BUILD"

# Skip the work when neither the fragments nor the tree's Kconfig changed.
key=$( (cat "${frags[@]}"; git -C "$TREE" rev-parse HEAD:; ) | sha256sum | cut -c1-16)
if [ -f "$BUILD/.config" ] && [ "$(cat "$BUILD/.config-key" 2>/dev/null)" = "$key" ]; then
	exit 0
fi
phase "configuring ($FLAVOR): tinyconfig + ${frags[*]##*/}"
log=$LOGS/$FLAVOR/config.log
mkdir -p "$(dirname "$log")"
tmp=$BUILD/.config.new
rm -f "$tmp"
(
	kernel_make KCONFIG_CONFIG=.config.new tinyconfig
	cd "$BUILD"
	KCONFIG_CONFIG=.config.new "$TREE/scripts/kconfig/merge_config.sh" -m -O "$BUILD" .config.new "${frags[@]}"
	cd "$TOP"
	kernel_make KCONFIG_CONFIG=.config.new olddefconfig
) >"$log" 2>&1 || { tail -n 30 "$log"; die "configuration failed (log: $log)"; }

bad=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n)
		opt=${line%%=*}
		if grep -q "^$opt=" "$tmp"; then
			echo "CONFIG CHECK: $opt should be off but is $(grep "^$opt=" "$tmp")" >&2; bad=1
		fi ;;
	CONFIG_*=*)
		if ! grep -qxF "$line" "$tmp"; then
			opt=${line%%=*}
			got=$(grep -E "^($opt=|# $opt is not set)" "$tmp" || echo "absent")
			echo "CONFIG CHECK: wanted $line, got: $got" >&2; bad=1
		fi ;;
	esac
done < <(cat "${frags[@]}" | sed 's/[[:space:]]*#.*//' | grep '^CONFIG_')
# Earlier commits of the series (scripts/bisect.sh) may lack options that
# later ones add: CONFIG_CHECK=0 skips the check for them.
[ $bad = 0 ] || [ "${CONFIG_CHECK:-1}" = 0 ] || die "required kernel options did not survive olddefconfig (see above; fragment dependencies missing?)"
# Only replace .config when it changed, so make does not rebuild for nothing.
if ! cmp -s "$tmp" "$BUILD/.config"; then mv "$tmp" "$BUILD/.config"; else rm -f "$tmp"; fi
echo "$key" > "$BUILD/.config-key"
