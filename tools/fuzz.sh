#!/bin/sh
# tools/fuzz.sh: run every Go fuzz target of the repository in turn, each
# for FUZZTIME (default 30s): `make fuzz FUZZTIME=60s`. Targets are found by
# grepping *_test.go for `func FuzzXxx(`; each runs alone
# (go test -run '^$' -fuzz '^Name$' -fuzztime T ./pkg), so one target's
# failure does not hide the others'. FUZZPARALLEL (default: the Go default,
# GOMAXPROCS) sets the workers; FUZZPKGS narrows the packages (a grep -E
# pattern over ./dir paths). FUZZMINIMIZETIME (default 1s) bounds the
# minimisation of each new input: Go's default (60s) lets a target whose
# executions take a fraction of a millisecond spend its whole FUZZTIME
# minimising the first inputs it finds, with the execs counter standing
# still (FuzzParse: 28k executions in 35 s at 5s, 156k in 45 s at 1s).
# A crasher is saved whole whatever the bound. Exits non-zero if any target failed; a failing
# input is left in that package's testdata/fuzz/<Name>/ for `go test` to
# replay.
set -u
if [ $# -gt 0 ]; then
	echo "usage: [FUZZTIME=30s] [FUZZPARALLEL=n] [FUZZPKGS=regexp] [FUZZMINIMIZETIME=1s] tools/fuzz.sh   (or: make fuzz FUZZTIME=60s)" >&2
	exit 2
fi
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZPKGS=${FUZZPKGS:-.}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-1s}
par=""
[ -n "${FUZZPARALLEL:-}" ] && par="-parallel ${FUZZPARALLEL}"
cd "$(dirname "$0")/.." || exit 2

targets=$(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+\(' . |
	grep -v '/node_modules/' |
	sed -E 's#^(.*)/[^/]+_test\.go:func (Fuzz[A-Za-z0-9_]+)\(#\1 \2#' |
	grep -E "^($FUZZPKGS)" | sort -u)
if [ -z "$targets" ]; then
	echo "fuzz: no targets match FUZZPKGS=$FUZZPKGS" >&2
	exit 2
fi
failed=""
n=0
echo "$targets" | {
	while read -r dir name; do
		n=$((n + 1))
		echo "=== fuzz $dir $name ($FUZZTIME)"
		# shellcheck disable=SC2086
		if ! $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$FUZZMINIMIZETIME" $par "$dir"; then
			failed="$failed $dir:$name"
		fi
	done
	if [ -n "$failed" ]; then
		echo "fuzz: FAILED:$failed" >&2
		exit 1
	fi
	echo "fuzz: $n targets passed"
}
