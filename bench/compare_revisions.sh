#!/usr/bin/env bash
# Measure Hearth at several git revisions, and the naive baseline, side by side in one
# run with the current load generator and finer rate steps than `make bench`:
#
#   bench/compare_revisions.sh REV [REV ...]
#
# Each revision is checked out into a temporary worktree and served from there by this
# checkout's virtualenv (server on core 0, generator on core 1). Prints one line per
# revision and scenario with the sustainable capacity (deliveries/s with p99 < 100 ms and
# nothing lost); the full JSON goes to bench/results/revisions.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
step_s=${STEP_S:-4}
bigroom=(--rooms 1 --room-size 500 --senders 1 --rates 40 60 80 100 120 140 160 180 200 240)
fanout=(--rooms 50 --room-size 20 --senders 2 --rates 500 1000 1500 2000 2500 3000 3500 4000 5000)

measure() {  # label kind scenario-args...
  local label=$1 kind=$2; shift 2
  .venv/bin/python -m bench.loadgen --start "$kind" --server-core 0 --pin-core 1 --duration "$step_s" "$@" \
    2>/dev/null | tail -n 1 > /tmp/hearth-rev-result.json
  python3 - "$label" "$*" <<'PY' | tee -a bench/results/revisions.jsonl.txt
import json, sys
r = json.load(open("/tmp/hearth-rev-result.json"))
scenario = "bigroom" if "--room-size 500" in sys.argv[2] else "fanout"
print(f"{sys.argv[1]:>10} {scenario:8} capacity {r['capacity_deliveries_per_s']:>9,.0f} deliveries/s"
      f" at {r['capacity_at_offered_msgs_per_s']} msg/s")
PY
  cat /tmp/hearth-rev-result.json >> bench/results/revisions.jsonl
}

measure baseline baseline "${bigroom[@]}"
measure baseline baseline "${fanout[@]}"
for rev in "$@"; do
  sha=$(git rev-parse --short "$rev")
  wt=$(mktemp -d "/tmp/hearth-rev-$sha-XXXX")
  git worktree add --detach -q "$wt" "$rev"
  HEARTH_BENCH_REPO="$wt" measure "$sha" hearth "${bigroom[@]}"
  HEARTH_BENCH_REPO="$wt" measure "$sha" hearth "${fanout[@]}"
  git worktree remove --force "$wt"
done
