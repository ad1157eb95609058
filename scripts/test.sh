#!/usr/bin/env bash
# Runs the suite against SQLite and against PostgreSQL (127.0.0.1:5432 unless SHIJIAN_TEST_PG_URL says otherwise),
# the two at the same time, each in its own folder, its lines marked [SQLite] or [PostgreSQL]; SHIJIAN_TEST_SERIAL=1
# runs them one after the other. The PostgreSQL run leaves out the tests that cannot reach a database (they run on
# SQLite); `scripts/test.sh postgres` alone runs them all. Where no PostgreSQL server answers, that run's tests are
# skipped and the reason is printed. pytest's exit 5 (no tests collected) is a failure here, never a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
which_dbs="${1:-all}"
export SHIJIAN_HOME="${SHIJIAN_HOME:-$(mktemp -d /tmp/shijian-test.XXXXXX)}"
export SHIJIAN_HTTPS=1
status=0

# One run of the suite: its own SHIJIAN_HOME and pytest folder, every line marked with its label and kept in
# $SHIJIAN_HOME/<label>.log; the status is pytest's, with exit 5 (no tests) turned into a failure.
run_pytest() {
  local label="$1"; shift
  local home="${SHIJIAN_HOME}/${label}"
  mkdir -p "$home"
  echo "=== tests on ${label} (${home}) ==="
  SHIJIAN_HOME="$home" "$BIN/pytest" -p no:cacheprovider --durations=15 --basetemp="${home}/pytest" "$@" 2>&1 \
    | tee "${SHIJIAN_HOME}/${label}.log" | sed -u "s/^/[${label}] /"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 5 ]; then
    echo "FAIL: pytest collected no tests on ${label}" >&2
    rc=1
  fi
  return "$rc"
}

sqlite_run() {
  # On SQLite the suite runs on a clock at 23:30 UTC (07:30 the next day in Beijing): a business date taken from
  # UTC instead of Asia/Shanghai fails, whatever the hour CI really runs. PostgreSQL runs on the real clock.
  SHIJIAN_TEST_NOW="${SHIJIAN_TEST_NOW:-$(date -u +%Y-%m-%d)T23:30:00Z}" \
    SHIJIAN_DATABASE_URL="sqlite:///${SHIJIAN_HOME}/SQLite/test.sqlite3" run_pytest SQLite
}

postgres_run() {
  # Beside the SQLite run, the tests that cannot reach the database (none of its fixtures, no `reaches_database`
  # mark: tests/conftest.py) are left out here: they ran there, and an engine cannot change what they do.
  local only=0
  [ "$which_dbs" = all ] && only=1
  SHIJIAN_DATABASE_URL="${SHIJIAN_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/shijian}" \
    SHIJIAN_REQUIRE_DB=postgres SHIJIAN_TEST_DATABASE_ONLY="$only" run_pytest PostgreSQL
}

bash scripts/ensure_browser.sh
bash scripts/ensure_fonts.sh
bash scripts/ensure_identity.sh

echo "=== lint (ruff) and types (mypy --strict) ==="
"$BIN/ruff" check . || status=1
"$BIN/ruff" format --check --quiet . || { echo "ruff format: run 'make format'" >&2; status=1; }
"$BIN/mypy" || status=1

echo "=== migrations are up to date ==="
SHIJIAN_DATABASE_URL="sqlite:///${SHIJIAN_HOME}/check.sqlite3" "$BIN/python" -m django makemigrations --check --dry-run \
  --settings=shijian.config.settings || status=1

runs=()
[ "$which_dbs" = all ] || [ "$which_dbs" = sqlite ] && runs+=(sqlite_run)
[ "$which_dbs" = all ] || [ "$which_dbs" = postgres ] && runs+=(postgres_run)
if [ "${SHIJIAN_TEST_SERIAL:-}" = 1 ] || [ "${#runs[@]}" -eq 1 ]; then
  for run in "${runs[@]}"; do "$run" || status=1; done
else
  pids=()
  for run in "${runs[@]}"; do "$run" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || status=1; done
  echo "=== summary ==="
  for label in SQLite PostgreSQL; do
    echo "${label}: $(grep -E '^=+ .*(passed|failed|error|skipped|no tests ran).* in [0-9.]+s' "${SHIJIAN_HOME}/${label}.log" | tail -1)"
  done
fi
exit $status
