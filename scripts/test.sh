#!/usr/bin/env bash
# Runs the suite against SQLite, then against PostgreSQL (127.0.0.1:5432 unless SHIJIAN_TEST_PG_URL says
# otherwise). Where no PostgreSQL server answers, that run's tests are skipped and the reason is printed.
# pytest's exit 5 (no tests collected) is a failure here, never a silent pass.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
which_dbs="${1:-all}"
export SHIJIAN_HOME="${SHIJIAN_HOME:-$(mktemp -d /tmp/shijian-test.XXXXXX)}"
export SHIJIAN_HTTPS=1
status=0

run_pytest() {
  local label="$1"; shift
  echo "=== tests on ${label} ==="
  "$BIN/pytest" "$@"
  local rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "FAIL: pytest collected no tests on ${label}" >&2
    rc=1
  fi
  [ "$rc" -eq 0 ] || status=1
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

if [ "$which_dbs" = all ] || [ "$which_dbs" = sqlite ]; then
  # On SQLite the suite runs on a clock at 23:30 UTC (07:30 the next day in Beijing): a business date taken from
  # UTC instead of Asia/Shanghai fails, whatever the hour CI really runs. PostgreSQL runs on the real clock.
  SHIJIAN_TEST_NOW="${SHIJIAN_TEST_NOW:-$(date -u +%Y-%m-%d)T23:30:00Z}" \
    SHIJIAN_DATABASE_URL="sqlite:///${SHIJIAN_HOME}/test.sqlite3" run_pytest SQLite -p no:cacheprovider
fi
if [ "$which_dbs" = all ] || [ "$which_dbs" = postgres ]; then
  SHIJIAN_DATABASE_URL="${SHIJIAN_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/shijian}" \
    SHIJIAN_REQUIRE_DB=postgres run_pytest PostgreSQL -p no:cacheprovider
fi
exit $status
