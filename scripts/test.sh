#!/usr/bin/env bash
# Runs the suite against SQLite and against PostgreSQL (127.0.0.1:5432 unless SHIJIAN_TEST_PG_URL says otherwise),
# the two at the same time, each in its own folder, its lines marked [SQLite] or [PostgreSQL], with the lint, type
# and migrations checks beside them ([checks]); SHIJIAN_TEST_SERIAL=1 runs them one after the other. When both
# engines run, each run leaves out what the other runs (below); `scripts/test.sh sqlite` or `postgres` alone runs
# every test. Where no PostgreSQL server answers, that run's tests are skipped and the reason is printed. pytest's
# exit 5 (no tests collected) is a failure here, never a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
which_dbs="${1:-all}"
case "$which_dbs" in
  all|sqlite|postgres) ;;
  *) echo "usage: scripts/test.sh [all|sqlite|postgres]" >&2; exit 2 ;;
esac
export SHIJIAN_HOME="${SHIJIAN_HOME:-$(mktemp -d /tmp/shijian-test.XXXXXX)}"
export SHIJIAN_HTTPS=1
status=0
rm -f "${SHIJIAN_HOME}"/{checks,SQLite,PostgreSQL}.rc  # a reused SHIJIAN_HOME: no outcome of an earlier run shown

# One run of the suite: its own SHIJIAN_HOME, pytest folder (removed when the run passes) and screenshots folder,
# every line marked with its label and kept in $SHIJIAN_HOME/<label>.log, its status in <label>.rc; the status is
# pytest's, with exit 5 (no tests) turned into a failure.
run_pytest() {
  local label="$1"; shift
  local home="${SHIJIAN_HOME}/${label}"
  mkdir -p "$home"
  echo "=== tests on ${label} (${home}) ==="
  SHIJIAN_HOME="$home" SHIJIAN_TEST_ARTIFACTS="${SHIJIAN_TEST_ARTIFACTS:-test-artifacts}/${label}" \
    "$BIN/pytest" -p no:cacheprovider --durations=15 --basetemp="${home}/pytest" "$@" 2>&1 \
    | tee "${SHIJIAN_HOME}/${label}.log" | sed -u "s/^/[${label}] /"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 5 ]; then
    echo "FAIL: pytest collected no tests on ${label}" | tee -a "${SHIJIAN_HOME}/${label}.log" >&2
    rc=1
  fi
  echo "$rc" > "${SHIJIAN_HOME}/${label}.rc"
  [ "$rc" -eq 0 ] && rm -rf "${home}/pytest"
  return "$rc"
}

# Each run's outcome: passed or failed with its status, pytest's last summary line, and where its log is.
summary() {
  echo "=== summary ==="
  local label rc line
  for label in "$@"; do
    rc=$(cat "${SHIJIAN_HOME}/${label}.rc" 2>/dev/null || echo "none")
    if [ "$rc" = 0 ]; then echo -n "${label}: PASSED"; else echo -n "${label}: FAILED (exit ${rc})"; fi
    line=$(grep -E '^=+ .* in [0-9.]+s' "${SHIJIAN_HOME}/${label}.log" 2>/dev/null | tail -1)
    echo " — ${line:+${line} }(${SHIJIAN_HOME}/${label}.log)"
  done
}

# When both runs go, each leaves out what the other runs (SHIJIAN_TEST_RUN, tests/conftest.py): the PostgreSQL
# run the tests that cannot reach the database (none of its fixtures, no `reaches_database` mark: an engine cannot
# change what they do), and each run the tests marked `one_engine` for the other engine (the mark says why). One
# run alone runs every test.
# Where PostgreSQL does not answer, its run is skipped: the SQLite run then runs every test.
PG_URL="${SHIJIAN_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/shijian}"
pg_answers() {
  "$BIN/python" -c 'import socket, sys, urllib.parse as u; p = u.urlparse(sys.argv[1]);
socket.create_connection((p.hostname or "127.0.0.1", p.port or 5432), timeout=2).close()' "$PG_URL" 2>/dev/null
}
split=""
if [ "$which_dbs" = all ]; then
  if pg_answers; then split=1; else echo "PostgreSQL does not answer at ${PG_URL}: the SQLite run runs every test"; fi
fi

sqlite_run() {
  # On SQLite the suite runs on a clock at 23:30 UTC (07:30 the next day in Beijing): a business date taken from
  # UTC instead of Asia/Shanghai fails, whatever the hour CI really runs. PostgreSQL runs on the real clock.
  SHIJIAN_TEST_NOW="${SHIJIAN_TEST_NOW:-$(date -u +%Y-%m-%d)T23:30:00Z}" SHIJIAN_TEST_RUN="${split:+sqlite}" \
    SHIJIAN_DATABASE_URL="sqlite:///${SHIJIAN_HOME}/SQLite/test.sqlite3" run_pytest SQLite
}

postgres_run() {
  SHIJIAN_DATABASE_URL="$PG_URL" SHIJIAN_TEST_RUN="${split:+postgresql}" run_pytest PostgreSQL
}

# Lint, types and the migrations check: their lines marked [checks], kept in checks.log, the status in checks.rc.
checks_run() {
  local rc=0
  {
    echo "=== lint (ruff) and types (mypy --strict) ==="
    "$BIN/ruff" check . || rc=1
    "$BIN/ruff" format --check --quiet . || { echo "ruff format: run 'make format'"; rc=1; }
    "$BIN/mypy" || rc=1
    echo "=== migrations are up to date ==="
    SHIJIAN_DATABASE_URL="sqlite:///${SHIJIAN_HOME}/check.sqlite3" "$BIN/python" -m django makemigrations --check \
      --dry-run --settings=shijian.config.settings || rc=1
    echo "$rc" > "${SHIJIAN_HOME}/checks.rc"
  } 2>&1 | tee "${SHIJIAN_HOME}/checks.log" | sed -u "s/^/[checks] /"
  return "$(cat "${SHIJIAN_HOME}/checks.rc")"
}

bash scripts/ensure_browser.sh
bash scripts/ensure_fonts.sh
bash scripts/ensure_identity.sh

runs=(checks_run) labels=(checks)
if [ "$which_dbs" = all ] || [ "$which_dbs" = sqlite ]; then runs+=(sqlite_run); labels+=(SQLite); fi
if [ "$which_dbs" = all ] || [ "$which_dbs" = postgres ]; then runs+=(postgres_run); labels+=(PostgreSQL); fi
if [ "${SHIJIAN_TEST_SERIAL:-}" = 1 ]; then
  for run in "${runs[@]}"; do "$run" || status=1; done
else  # the checks (one core for a minute) go beside the test runs, which leave a core part idle
  pids=()
  trap 'trap - INT TERM; kill -TERM 0' INT TERM  # stopped: every run (their whole process group) stops too
  for run in "${runs[@]}"; do "$run" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
fi
summary "${labels[@]}"
exit $status
