# What every task of a sweep's array job does once RUN, its three command lines (NEW, RESUME,
# FORCE), SSSSEG, RECORDS, TABLE and ALL_RUNS are set; `sssseg sweep --executor slurm` appends this
# to the job script it writes (src/commands/sweep/job-script.ts).
TASK="${SLURM_ARRAY_JOB_ID:-${SLURM_JOB_ID:-manual}}_${SLURM_ARRAY_TASK_ID}"
mkdir -p "$RECORDS" "$(dirname "$RUN")"
START="$RECORDS/$TASK.start"
# the exit record: the sweep reads these (not Slurm accounting) to tell done from failed
record() {
  printf '{"task":"%s","code":%d,"host":"%s","restarts":%d,"ended":"%s"}\n' \
    "$TASK" "$1" "$(hostname -s)" "${SLURM_RESTART_COUNT:-0}" "$(date -u +%FT%TZ)" > "$RECORDS/$TASK.exit.tmp"
  mv -f "$RECORDS/$TASK.exit.tmp" "$RECORDS/$TASK.exit"
}
rm -f "$RECORDS/$TASK.exit"
date -u +%FT%TZ > "$START"
if [ -f "$RUN/results.json" ]; then
  echo "sssseg: $RUN is finished already"
  record 0
  exit 0
fi
if [ -f "$RUN/last.bin" ]; then ARGS=("${RESUME[@]}")
elif [ -n "$(ls -A "$RUN" 2>/dev/null)" ]; then ARGS=("${FORCE[@]}")
else ARGS=("${NEW[@]}"); fi
export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-${OMP_NUM_THREADS:-1}}"
echo "== slurm task $TASK on $(hostname -s), start $((${SLURM_RESTART_COUNT:-0} + 1)) at $(date -u +%FT%TZ): sssseg ${ARGS[*]}" >> "$RUN.log"
# scancel, the time limit and preemption signal every process of the job (SIGTERM), so train hears
# those itself; the early warning (--signal=B:USR1) reaches only this shell and is passed on.
trap 'kill -USR1 "$CHILD" 2>/dev/null' USR1
trap ':' TERM
"${SSSSEG[@]}" "${ARGS[@]}" >> "$RUN.log" 2>&1 &
CHILD=$!
# wait returns early when a trap runs; wait again until train has really exited
while :; do wait "$CHILD"; CODE=$?; kill -0 "$CHILD" 2>/dev/null || break; done
record "$CODE"
# stopped by the time-limit warning after some progress: back into the queue, to continue from last.bin
if [ "$CODE" = 138 ] && [ -n "${SLURM_ARRAY_JOB_ID:-}" ] && [ -n "$(find "$RUN" -newer "$START" -print -quit 2>/dev/null)" ]; then
  scontrol requeue "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}" && echo "sssseg: requeued $TASK to continue $RUN"
fi
# the last run to finish writes the table
for d in "${ALL_RUNS[@]}"; do [ -f "$d/results.json" ] || exit "$CODE"; done
"${SSSSEG[@]}" table "${ALL_RUNS[@]}" --out "$TABLE" > "$RECORDS/table.log" 2>&1
exit "$CODE"
