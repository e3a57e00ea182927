# Shared settings and helpers for the scripts in this directory (sourced).
# shellcheck shell=bash
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$TOP/out
TREE=${HMM_TREE:-$OUT/linux}
LOGS=$OUT/logs
PATCHES=$TOP/patches
# shellcheck source=../kernel.version
. "$TOP/kernel.version"

if [ "${DEBUG:-0}" = 1 ]; then FLAVOR=debug; else FLAVOR=default; fi
BUILD=${HMM_BUILD:-$OUT/build/$FLAVOR}
JOBS=${JOBS:-$(nproc)}

# Elapsed time is counted from the first script of one `make` invocation.
: "${HMM_T0:=$(date +%s)}"
export HMM_T0

phase() { printf '[%5ss] %s\n' "$(( $(date +%s) - HMM_T0 ))" "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# run_logged LOG CMD...: run CMD with all output in LOG; on failure show its tail.
run_logged() {
	local log=$1; shift
	mkdir -p "$(dirname "$log")"
	if ! "$@" >"$log" 2>&1; then
		printf 'ERROR: command failed: %s\n--- last lines of %s ---\n' "$*" "$log" >&2
		tail -n 40 "$log" >&2
		return 1
	fi
}

# The version of the installed base source package (empty if none).
installed_source_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$LINUX_SOURCE_PACKAGE" 2>/dev/null |
		awk '$3 == "installed" { print $4 }'
}

kernel_make() {
	make -C "$TREE" O="$BUILD" -j"$JOBS" CC="ccache gcc" HOSTCC="ccache gcc" "$@"
}

export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-8G}
export CCACHE_BASEDIR=$OUT
