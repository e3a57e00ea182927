# shellcheck shell=bash
# The caller sets UBIN, CFLAGS_U, ulog and built=() and defines die().
# shellcheck disable=SC2154
# User-space programs for the VM (sourced by scripts/build.sh): static
# binaries in $UBIN, listed in $UBIN/MANIFEST, which is all the VM gets.

# build_prog NAME SOURCE...: build $UBIN/NAME; rebuilt when the sources,
# any header they include (gcc -MMD) or the command line changed.
build_prog() {
	local name=$1 out=$UBIN/$1 cmd dep stale=0
	shift
	built+=("$name")
	cmd="gcc ${CFLAGS_U[*]} -o $out $* -lpthread -lrt -lm"
	if [ ! -x "$out" ] || [ ! -f "$out.d" ] || [ "$(cat "$out.cmd" 2>/dev/null)" != "$cmd" ]; then
		stale=1
	else
		# shellcheck disable=SC2013 # a make rule: words, not lines
		for dep in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$out.d"); do
			[ "$dep" -nt "$out" ] && { stale=1; break; }
		done
	fi
	[ $stale = 1 ] || return 0
	echo "CC $out" >> "$ulog"
	rm -f "$out" "$out.d" "$out.cmd"
	gcc "${CFLAGS_U[@]}" -MMD -MF "$out.d" -o "$out" "$@" -lpthread -lrt -lm >> "$ulog" 2>&1 ||
		{ cat "$ulog" >&2; die "building $name failed (log: ${ulog#"$TOP"/})"; }
	echo "$cmd" > "$out.cmd"
}

# finish_progs: write the MANIFEST of what build_prog built this time and
# remove everything else from $UBIN.
finish_progs() {
	local f b
	printf '%s\n' "${built[@]}" > "$UBIN/MANIFEST"
	for f in "$UBIN"/*; do
		b=$(basename "$f")
		b=${b%.d}
		b=${b%.cmd}
		[ "$b" = MANIFEST ] || grep -qxF "$b" "$UBIN/MANIFEST" || rm -f "$f"
	done
}
