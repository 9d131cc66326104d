#!/usr/bin/env bash
# Measure Hearth at several git revisions, with Node's socket.io and the naive baseline as
# anchors, side by side in one run with the current load generator:
#
#   bench/compare_revisions.sh REV [REV ...]
#   SCENARIOS="fanout bigroom" STEP_S=4 REPEAT=2 bench/compare_revisions.sh HEAD~1 HEAD
#   FANOUT_RATES="400 800" SCENARIOS=fanout ANCHORS=node bench/compare_revisions.sh HEAD~1 HEAD
#
# Each revision is checked out into a temporary worktree and served from there by this
# checkout's virtualenv (server on core 0, generator on core 1). Per revision and scenario it
# prints the sustainable capacity (deliveries/s with p99 < 100 ms and nothing lost), the
# server's CPU µs per delivery at a fixed rate and p50/p99 at a fixed rate. With REPEAT=n the
# revisions are measured n times in turn (A B A B ...), so drift on a shared machine shows as
# spread rather than as a difference. ANCHORS="node baseline" (default) sets the anchors.
# Full JSON: bench/results/revisions.jsonl; the printed lines: bench/results/revisions.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
step_s=${STEP_S:-4}
repeat=${REPEAT:-1}
scenarios=${SCENARIOS:-fanout bigroom}
anchors=${ANCHORS:-node baseline}
mkdir -p bench/results
if [[ " $anchors " == *" node "* && ! -d bench/node/node_modules/socket.io ]]; then
  (cd bench/node && npm ci --no-audit --no-fund --loglevel=error)
fi

args_for() {  # scenario -> loadgen arguments; the fixed rates the summary reads come first
  case $1 in
    bigroom) echo "--rooms 1 --room-size 500 --senders 1 --rates ${BIGROOM_RATES:-40 80 120 160 200 240 280 320 400 480}" ;;
    fanout) echo "--rooms 50 --room-size 20 --senders 2 --rates ${FANOUT_RATES:-400 800 1200 1600 2000 2400 2800 3200 4000 4800}" ;;
    *) echo "unknown scenario $1" >&2; exit 2 ;;
  esac
}

measure() {  # label kind scenario
  local label=$1 kind=$2 sc=$3 out
  out=$(mktemp /tmp/hearth-rev-XXXX.json)
  # shellcheck disable=SC2046
  .venv/bin/python -m bench.loadgen --start "$kind" --server-core 0 --pin-core 1 --duration "$step_s" \
    $(args_for "$sc") 2>/dev/null | tail -n 1 > "$out"
  .venv/bin/python - "$label" "$sc" "$out" <<'PY' | tee -a bench/results/revisions.txt
import json, sys
label, sc, path = sys.argv[1:]
r = json.load(open(path))
steps = r["steps"]
first = steps[0] if steps else {}
fixed = {"fanout": 800.0, "bigroom": 160.0}[sc]
at = next((s for s in steps if s["offered_msgs_per_s"] == fixed), {})
load = first.get("loadavg_1m", "?")
print(f"{label:>10} {sc:8} capacity {r['capacity_deliveries_per_s']:>9,.0f} deliveries/s"
      f" | CPU {at.get('server_cpu_us_per_delivery', float('nan')):6.1f} µs/delivery at {fixed:g} msg/s"
      f" | p50 {first.get('lat_p50_ms')} p99 {first.get('lat_p99_ms')} ms at {first.get('offered_msgs_per_s')} msg/s"
      f" | load {load}")
PY
  jq -c --arg label "$label" --arg sc "$sc" '. + {label: $label, scenario: $sc}' "$out" \
    >> bench/results/revisions.jsonl 2>/dev/null || cat "$out" >> bench/results/revisions.jsonl
  rm -f "$out"
}

declare -A wts=()
cleanup() {
  for wt in "${wts[@]}"; do git worktree remove --force "$wt" 2>/dev/null || true; done
}
trap cleanup EXIT
for rev in "$@"; do
  sha=$(git rev-parse --short "$rev")
  wt=$(mktemp -d "/tmp/hearth-rev-$sha-XXXX")
  git worktree add --detach -q "$wt" "$rev"
  wts[$sha]=$wt
done

echo "# $(date -u +%FT%TZ) compare_revisions.sh $* (STEP_S=$step_s REPEAT=$repeat, $(uptime | sed 's/.*load/load/'))" \
  | tee -a bench/results/revisions.txt
for ((i = 1; i <= repeat; i++)); do
  for sc in $scenarios; do
    for a in $anchors; do measure "$a" "$a" "$sc"; done
    for rev in "$@"; do
      sha=$(git rev-parse --short "$rev")
      HEARTH_BENCH_REPO="${wts[$sha]}" measure "$sha" hearth "$sc"
    done
  done
done
