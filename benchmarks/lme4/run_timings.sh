#!/usr/bin/env bash
# Reproduce benchmarks/lme4/timings_lme4.md (raw results: one JSON line per fit).
# Usage, from the repository root:
#   bash benchmarks/lme4/run_timings.sh [OUT.jsonl] [SIZES...]
# Environment: ONLY_SYNTH=1 skips the InstEval / sample360 fits;
#              DESIGN=global uses make_synth_crossed.R's "global" design.
# Each fit runs in its own Rscript under an 8 GiB address-space limit
# (ulimit -v) and a 15-minute timeout; the synthetic sizes stop at the first
# one that fails or takes longer than 600 s.
set -u
out=${1:-/tmp/lme4_timings.jsonl}
shift || true
sizes=${*:-100000 500000 1000000 2000000 4000000 8000000}
design=${DESIGN:-teams}
here=benchmarks/lme4
ref=tests/reference/lme4
synth=/tmp/lme4_synth
mkdir -p "$synth"
: > "$out"

run() {  # label, then time_lmer.R arguments
  local label=$1; shift
  local line rc
  line=$( (ulimit -v 8388608; timeout 900 Rscript "$here/time_lmer.R" "$@") 2>/tmp/lme4_timing_stderr.txt)
  rc=$?
  if [ $rc -ne 0 ] || [ -z "$line" ]; then
    line="{\"error\":\"exit $rc\",\"stderr\":$(tail -c 400 /tmp/lme4_timing_stderr.txt | python3 -c 'import json,sys;print(json.dumps(sys.stdin.read()))')}"
  fi
  echo "{\"label\":\"$label\",\"result\":$line}" | tee -a "$out"
  return $rc
}

if [ "${ONLY_SYNTH:-0}" != 1 ]; then
for i in 1 2 3; do
  run "insteval_classic_reml_bobyqa_$i" $ref/insteval.csv.gz "y ~ service + (1|s) + (1|d) + (1|dept:service)" TRUE --factors=service
done
for i in 1 2 3; do
  run "insteval_classic_reml_nloptwrap_$i" $ref/insteval.csv.gz "y ~ service + (1|s) + (1|d) + (1|dept:service)" TRUE --factors=service --optimizer=nloptwrap
done
for i in 1 2 3; do
  run "insteval_crossed_reml_bobyqa_$i" $ref/insteval.csv.gz "y ~ service + (1|s) + (1|d)" TRUE --factors=service
done
for i in 1 2 3; do
  run "sample360_reml_bobyqa_$i" $ref/sample360.csv.gz "score ~ aspect + rater_role + (1|ratee_id) + (1|rater_id)" TRUE
done
fi
for n in $sizes; do
  if [ "$design" = teams ]; then f=$synth/synth_$n.csv; else f=$synth/synth_${design}_$n.csv; fi
  [ -f "$f" ] || Rscript $here/make_synth_crossed.R "$n" "$f" 1 "$design"
  start=$(date +%s)
  run "synth_${design}_${n}_reml_bobyqa" "$f" "y ~ x + (1|ratee) + (1|rater)" TRUE || break
  [ $(( $(date +%s) - start )) -gt 600 ] && break
done
