# Shared settings and helpers for the scripts in this directory (sourced).
# shellcheck shell=bash
# The globals below are used by the scripts that source this file.
# shellcheck disable=SC2034
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$TOP/out
TREE=${HMM_TREE:-$OUT/linux}
LOGS=$OUT/logs
PATCHES=$TOP/patches
# shellcheck source=../kernel.version
. "$TOP/kernel.version"

# The flavor comes from the make command line only (the Makefile passes
# HMM_FLAVOR); a DEBUG variable in the environment changes nothing.
case ${HMM_FLAVOR:-default} in
default | debug) FLAVOR=${HMM_FLAVOR:-default} ;;
*) echo "ERROR: unknown flavor '${HMM_FLAVOR}' (DEBUG=0 or DEBUG=1)" >&2; exit 2 ;;
esac
BUILD=${HMM_BUILD:-$OUT/build/$FLAVOR}
JOBS=${JOBS:-$(nproc)}

# Elapsed time is counted from the first script of one `make` invocation.
: "${HMM_T0:=$(date +%s)}"
export HMM_T0

phase() {
	printf '[%5ss] %s\n' "$(($(date +%s) - HMM_T0))" "$*"
	mkdir -p "$OUT" && echo "$*" > "$OUT/.phase"
}
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# The outermost script of a `make` command prints, when it fails, one last
# line that says where it stopped and what to do.
if [ -z "${HMM_TOPLEVEL:-}" ]; then
	export HMM_TOPLEVEL=$$
	HMM_COMMAND="make $(basename "$0" .sh)"
	on_exit() {
		local rc=$1 where
		[ "$rc" != 0 ] && [ -z "${HMM_REPORTED:-}" ] || return 0
		where=$(cat "$OUT/.phase" 2>/dev/null || echo start)
		printf 'FAILED: %s stopped (exit %s) during "%s". The ERROR lines above say what failed; fix that and run %s again (logs: out/logs/).\n' \
			"$HMM_COMMAND" "$rc" "$where" "$HMM_COMMAND" >&2
	}
	trap 'on_exit $?' EXIT
fi

# run_logged LOG CMD...: run CMD with all output in LOG; on failure show its tail.
run_logged() {
	local log=$1
	shift
	mkdir -p "$(dirname "$log")"
	if ! "$@" >"$log" 2>&1; then
		printf 'ERROR: command failed: %s\n--- last lines of %s ---\n' "$*" "$log" >&2
		tail -n 40 "$log" >&2
		printf -- '--- (whole log: %s)\n' "${log#"$TOP"/}" >&2
		return 1
	fi
}

# The version of the installed base source package (empty if none).
installed_source_version() {
	local st
	st=$(dpkg-query -W -f='${Status} ${Version}\n' "$LINUX_SOURCE_PACKAGE" 2>/dev/null) || return 0
	echo "$st" | awk '$3 == "installed" { print $4 }'
}

kernel_make() {
	make -C "$TREE" O="$BUILD" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc" "$@"
}

export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_BASEDIR=$OUT

# result pass|fail|skip NAME: one result of `make check`, appended to the
# file named by HMM_RESULTS (scripts/check.sh sums them). Outside make
# check it only prints failures.
result() {
	[ "$1" != fail ] || echo "  FAILED: $2"
	if [ -n "${HMM_RESULTS:-}" ]; then echo "$1 $2" >> "$HMM_RESULTS"; fi
}
