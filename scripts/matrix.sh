#!/bin/bash
# Build the series in the configurations of config/matrix/*.config (each
# merged after tinyconfig + config/hmm.config), one result per
# configuration: the options a fragment names must survive olddefconfig and
# vmlinux plus modules must build. Each configuration builds in its own
# directory, out/matrix/<name>, with ccache; a configuration that built
# for the same tree and fragments is remembered (out/matrix/passed).
# shellcheck source=common.sh
. "$(dirname "$0")/common.sh"

PASSED=$OUT/matrix/passed
mkdir -p "$OUT/matrix"
touch "$PASSED"
bad=0
for frag in "$TOP"/config/matrix/*.config; do
	name=$(basename "$frag" .config)
	key="$(git -C "$TREE" rev-parse "HEAD^{tree}")-$(cat "$TOP/config/hmm.config" "$frag" | sha256sum | cut -c1-16)"
	if grep -qxF "$key" "$PASSED"; then
		phase "configuration $name (built before)"
		result pass "configuration $name builds"
		continue
	fi
	phase "configuration $name: $(sed -n '1s/^# //p' "$frag")"
	log=$LOGS/matrix-$name.log
	export HMM_BUILD=$OUT/matrix/$name
	BUILD=$HMM_BUILD
	targets=(vmlinux)
	if ! out=$("$TOP/scripts/config.sh" --fragment "$frag" 2>&1); then
		printf '%s\n' "$out" | sed 's/^/  /'
		result fail "configuration $name: its options do not survive olddefconfig"
		bad=1
		continue
	fi
	grep -q '^CONFIG_MODULES=y' "$BUILD/.config" && targets+=(modules)
	if run_logged "$log" kernel_make "${targets[@]}"; then
		echo "$key" >> "$PASSED"
		result pass "configuration $name builds"
	else
		grep -E 'error:|undefined|ERROR:' "$log" | head -n 5 | sed 's/^/  /'
		result fail "configuration $name builds (log: out/logs/matrix-$name.log)"
		bad=1
	fi
done
exit $bad
