#!/usr/bin/env bash
# The standing security and reliability suite (make reliability; CI runs it after make test).
#
#   scripts/reliability.sh            every check
#   RELIABILITY_AUDIT=1 ...           also audit dependencies (needs PyPI / OSV over the network)
#
# Checks (each a row of the summary table: attempts, failures, seconds):
#   races          PostgreSQL: 50 orders vs a balance and vs a credit limit, a promo limit under
#                  50 checkouts, 20 refunds of one payment (+ the bonus-points race: BONUS-RACE)
#   billing-kill   the billing run SIGKILLed at 50 seeded random points, rerun, no duplicate charge
#   module-faults  the dummy module: timeouts, errors, unknown outcomes, a hung call
#   webhook-fuzz   every gateway: duplicates, reordering, forgeries, changed amount / currency
#   api-stateful   schemathesis: stateful links and every operation, client and staff tokens
#   bandit         billow/ against the reviewed baseline (scripts/bandit-baseline.json)
#   dep-audit      pip-audit, only with RELIABILITY_AUDIT=1 (skipped otherwise: this suite
#                  sends nothing beyond 127.0.0.1)
# Any failure exits non-zero; the PostgreSQL cluster is stopped by PID whatever happens.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${BILLOW_PYTHON:-.venv/bin/python}
export DJANGO_SETTINGS_MODULE=config.settings BILLOW_FAST_HASHER=1 PYTHONPATH=$PWD
unset DATABASE_URL JOBS_URL
SEED=${RELIABILITY_SEED:-22}

WORK=$(mktemp -d /tmp/billow-reliability.XXXXXX)
chmod 755 "$WORK"  # the postgres OS user must reach its data dir inside
export BILLOW_VAR_DIR="$WORK/var"
cleanup() { scripts/postgres-down.sh "$WORK/pg" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
START=$(date +%s)

record() {  # name attempts failures seconds note
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$RESULTS"
}

junit_counts() {  # junit.xml -> "attempts failures": attempts = the tests' recorded attempts
  "$PY" - "$1" <<'PYEOF'
import sys
import xml.etree.ElementTree as ET  # noqa: S405 - our own pytest output

try:
    root = ET.parse(sys.argv[1]).getroot()  # noqa: S314
except (OSError, ET.ParseError):
    print("0 1")
    raise SystemExit
attempts = failures = 0
for case in root.iter("testcase"):
    if case.find("skipped") is not None:
        continue
    if case.find("failure") is not None or case.find("error") is not None:
        failures += 1
    recorded = [int(p.get("value", "0")) for p in case.iter("property") if p.get("name") == "attempts"]
    attempts += sum(recorded) if recorded else 1
print(attempts, failures)
PYEOF
}

pytest_check() {  # name [env ...] -- pytest args
  local name=$1 t0=$SECONDS
  shift
  local envs=()
  while [ "$1" != "--" ]; do envs+=("$1"); shift; done
  shift
  printf '\n=== %s\n' "$name"
  env "${envs[@]}" "$PY" -m pytest -p no:randomly -q --junitxml="$WORK/$name.xml" \
    -o junit_family=xunit1 "$@" | tail -15
  read -r attempts failures < <(junit_counts "$WORK/$name.xml")
  record "$name" "$attempts" "$failures" "$((SECONDS - t0))" ""
}

fresh_db() {  # a new database on the throwaway cluster
  "$PY" - "$PG_URL" "$1" <<'PYEOF'
import sys

import psycopg

url, name = sys.argv[1], sys.argv[2]
with psycopg.connect(url, autocommit=True) as conn:
    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.execute(f'CREATE DATABASE "{name}"')
print(url.rsplit("/", 1)[0] + "/" + name)
PYEOF
}

PG_URL=$(scripts/postgres-up.sh "$WORK/pg")

pytest_check races "DATABASE_URL=$PG_URL" -- tests/reliability/test_races.py

printf '\n=== billing-kill\n'
t0=$SECONDS
KILL_URL=$(fresh_db reliability_kill)
if out=$(DATABASE_URL=$KILL_URL "$PY" scripts/reliability/billing_kill.py --kills 50 --seed "$SEED"); then :; fi
echo "$out" | tail -1
read -r attempts failures note < <(echo "$out" | tail -1 | "$PY" -c '
import json, sys
try:
    r = json.loads(sys.stdin.read())
    notes = "; ".join(r["notes"])[:200]
    print(r["attempts"], r["failures"], str(r["killed_mid_run"]) + " killed mid-run. " + notes)
except ValueError:
    print(0, 1, "no report")
')
record billing-kill "$attempts" "$failures" "$((SECONDS - t0))" "$note"

pytest_check module-faults -- tests/reliability/modules
pytest_check webhook-fuzz "RELIABILITY_SEED=$SEED" -- tests/reliability/webhooks
pytest_check api-stateful "RELIABILITY_API_EXAMPLES=30" -- tests/reliability/api

printf '\n=== bandit\n'
t0=$SECONDS
if "$PY" -m bandit -r billow -q -x 'billow/*/migrations' -b scripts/bandit-baseline.json \
  -f json -o "$WORK/bandit.json" >/dev/null 2>"$WORK/bandit.err"; then bandit_rc=0; else bandit_rc=$?; fi
read -r attempts failures < <("$PY" - "$WORK/bandit.json" "$bandit_rc" <<'PYEOF'
import json
import sys

try:
    data = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(0, 1)
    raise SystemExit
new = data.get("results", [])
for r in new:
    print(f"NEW {r['test_id']} {r['filename']}:{r['line_number']} {r['issue_text']}", file=sys.stderr)
print(data.get("metrics", {}).get("_totals", {}).get("loc", 0), len(new) + (1 if sys.argv[2] not in ("0", "1") else 0))
PYEOF
)
record bandit "$attempts" "$failures" "$((SECONDS - t0))" "attempts = lines scanned; failures = findings not in the baseline"

printf '\n=== dep-audit\n'
t0=$SECONDS
if [ "${RELIABILITY_AUDIT:-0}" = 1 ]; then
  if "$PY" -m pip_audit --progress-spinner off >"$WORK/audit.txt" 2>&1; then
    record dep-audit 1 0 "$((SECONDS - t0))" "pip-audit: no known vulnerabilities"
  elif grep -qiE "connection|resolve|timed out|network" "$WORK/audit.txt"; then
    record dep-audit 0 0 "$((SECONDS - t0))" "SKIPPED: vulnerability data unreachable"
  else
    cat "$WORK/audit.txt"
    record dep-audit 1 1 "$((SECONDS - t0))" "pip-audit found vulnerable packages (above)"
  fi
else
  echo "dep-audit skipped: the vulnerability data (PyPI / OSV) is not reachable from a run that"
  echo "sends nothing beyond 127.0.0.1; set RELIABILITY_AUDIT=1 where it is."
  record dep-audit 0 0 0 "SKIPPED: vulnerability data unreachable (RELIABILITY_AUDIT=1 to run)"
fi

TOTAL=$(($(date +%s) - START))
printf '\n%-14s %9s %9s %8s  %s\n' check attempts failures seconds note
printf '%-14s %9s %9s %8s  %s\n' -------------- --------- --------- -------- ----
failed=0
while IFS=$'\t' read -r name attempts failures seconds note; do
  printf '%-14s %9s %9s %8s  %s\n' "$name" "$attempts" "$failures" "$seconds" "$note"
  [ "$failures" != 0 ] && failed=1
done <"$RESULTS"
printf 'total: %ss, seed %s: %s\n' "$TOTAL" "$SEED" "$([ $failed = 0 ] && echo PASSED || echo FAILED)"
exit $failed
