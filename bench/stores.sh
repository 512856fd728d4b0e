#!/usr/bin/env bash
# Many worker processes on one store, Quarry next to Optuna: P processes that together run T
# trials of a trivial objective (random sampler), on one PostgreSQL database and on one SQLite
# file. Builds nothing: build bench_store_workers first (make bench), then
#   bench/stores.sh BUILD_DIR
# Environment: PG_PROCESSES (16), PG_TRIALS (2000), SQLITE_PROCESSES (8), SQLITE_TRIALS (1000),
#              PYTHON (/usr/bin/python3, the interpreter that has Optuna and psycopg2).
# The PostgreSQL server is a throwaway one (scripts/test-postgres: unix socket, fsync off, the same
# server for both tools), removed at the end. Each run gets a fresh database or file.
# Prints every measurement, the table, and whether the goals hold: Quarry >= 20x Optuna's
# throughput on PostgreSQL, 0 errors and every number 0..T-1 once for Quarry on both stores.
# Exit status: 0 when the measurements ran (goals met or not), 2 on misuse.
set -euo pipefail

build=${1:-}
if [[ -z $build || $# -ne 1 ]]; then
  echo "usage: bench/stores.sh BUILD_DIR" >&2
  exit 2
fi
bin=$build/bench/bench_store_workers
if [[ ! -x $bin ]]; then
  echo "stores.sh: $bin does not exist; build it first (make bench)" >&2
  exit 2
fi
pg_processes=${PG_PROCESSES:-16}
pg_trials=${PG_TRIALS:-2000}
sqlite_processes=${SQLITE_PROCESSES:-8}
sqlite_trials=${SQLITE_TRIALS:-1000}
python=${PYTHON:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/quarry-stores.XXXXXX")
chmod 755 "$work"
trap '"$here/../scripts/test-postgres" stop "$work/pg.url"; rm -rf "$work"' EXIT
"$here/../scripts/test-postgres" start "$work/pg.url"
url=$(cat "$work/pg.url")        # postgresql://quarry@/postgres?host=/tmp/quarry-pg.XXXXXX
socket=${url#*\?host=}
results=$work/results.txt
: >"$results"

database() {  # database NAME: creates it; prints Quarry's URL for it
  "$python" - "$socket" "$1" <<'PY' || psql -q "$url" -c "CREATE DATABASE $1"
import sys
import psycopg2
c = psycopg2.connect(host=sys.argv[1], user="quarry", dbname="postgres")
c.autocommit = True
c.cursor().execute("CREATE DATABASE " + sys.argv[2])
PY
  echo "postgresql://quarry@/$1?host=$socket"
}

have_optuna=0
"$python" -c 'import optuna, psycopg2' 2>/dev/null && have_optuna=1

echo "== PostgreSQL: $pg_processes processes, $pg_trials trials"
"$bin" --storage "$(database quarry_pg)" --processes "$pg_processes" --trials "$pg_trials" |
  tee -a "$results" || true
if [[ $have_optuna -eq 1 ]]; then
  database optuna_pg >/dev/null
  "$python" "$here/optuna_store_workers.py" --processes "$pg_processes" --trials "$pg_trials" \
    --storage "postgresql+psycopg2://quarry@/optuna_pg?host=$socket" | tee -a "$results" || true
fi

echo "== SQLite: $sqlite_processes processes, $sqlite_trials trials"
"$bin" --storage "$work/quarry.db" --processes "$sqlite_processes" --trials "$sqlite_trials" |
  tee -a "$results" || true
if [[ $have_optuna -eq 1 ]]; then
  "$python" "$here/optuna_store_workers.py" --processes "$sqlite_processes" \
    --trials "$sqlite_trials" --storage "sqlite:///$work/optuna.db" 2>"$work/optuna-sqlite.err" |
    tee -a "$results" || true
  echo "(Optuna on SQLite: $(grep -c 'database is locked' "$work/optuna-sqlite.err" || true)" \
    "'database is locked' messages)"
fi

field() {  # field TOOL STORE KEY
  sed -n "s/^$1 store=$2 .*$3=\([^ ]*\).*/\1/p" "$results" | head -n 1
}
echo
printf "%-11s | %9s | %6s | %14s | %14s | %7s | %15s\n" store processes trials \
  "Quarry trial/s" "Optuna trial/s" ratio "errors Q / O"
printf -- "------------+-----------+--------+----------------+----------------+---------+----------------\n"
for store in postgresql sqlite; do
  q=$(field quarry $store trials_per_s)
  o=$(field optuna $store trials_per_s)
  ratio=$(awk -v q="$q" -v o="$o" 'BEGIN { if (q != "" && o != "" && o > 0) printf "%.1fx", q / o; else print "-" }')
  [[ $store == postgresql ]] && pg_ratio=${ratio%x}
  printf "%-11s | %9s | %6s | %14s | %14s | %7s | %6s / %-6s\n" $store \
    "$(field quarry $store processes)" "$(field quarry $store trials)" "${q:--}" "${o:--}" "$ratio" \
    "$(field quarry $store errors)" "$(field optuna $store errors)"
done

ok=1
for store in postgresql sqlite; do
  [[ $(field quarry $store errors) == 0 && $(field quarry $store numbers_ok) == 1 ]] || ok=0
done
echo "GOAL (Quarry: 0 errors, every number once, on both stores): $([[ $ok == 1 ]] && echo MET || echo NOT MET)"
if [[ $have_optuna -eq 0 ]]; then
  echo "GOAL (Quarry >= 20x Optuna's throughput on PostgreSQL): not checked (no Optuna/psycopg2)"
elif awk -v r="${pg_ratio:-}" 'BEGIN { exit !(r != "" && r >= 20) }'; then
  echo "GOAL (Quarry >= 20x Optuna's throughput on PostgreSQL): MET (${pg_ratio}x)"
else
  echo "GOAL (Quarry >= 20x Optuna's throughput on PostgreSQL): NOT MET (${pg_ratio:-?}x)"
fi
