#!/usr/bin/env bash
# Measure Hearth at several git revisions, side by side in one run, with the current
# load generator:   bench/compare_revisions.sh REV [REV ...]
# Each revision is checked out into a temporary worktree and served from there by this
# checkout's virtualenv; the figures (one JSON line per scenario and revision) are
# printed and appended to bench/results/revisions.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
scenarios=${SCENARIOS:-bigroom,fanout}
for rev in "$@"; do
  sha=$(git rev-parse --short "$rev")
  wt=$(mktemp -d "/tmp/hearth-rev-$sha-XXXX")
  git worktree add --detach -q "$wt" "$rev"
  echo "== $rev ($sha)"
  HEARTH_BENCH_REPO="$wt" .venv/bin/python -m bench.run_all --scenarios "$scenarios" --servers hearth \
      --no-doc --no-plots | grep '^{' | while read -r line; do
        echo "{\"rev\":\"$rev\",\"sha\":\"$sha\",\"result\":$line}" | tee -a bench/results/revisions.jsonl >/dev/null
        python3 -c 'import json,sys; d=json.loads(sys.argv[1]); r=d["result"]; h=r["runs"]["hearth"]
print(d["rev"], r["scenario"], "capacity", h.get("capacity_deliveries_per_s"), "deliveries/s at",
      h.get("capacity_at_offered_msgs_per_s"), "msg/s")' "{\"rev\":\"$rev\",\"result\":$line}"
      done
  git worktree remove --force "$wt"
done
