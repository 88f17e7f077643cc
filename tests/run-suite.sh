#!/usr/bin/env bash
# `make test`: the whole suite. The SLURM tests (marker `slurm`) spend most of their minutes
# waiting between the SLURM executor's status checks, so they run in a second pytest beside the
# rest (each session with its own basetemp: pytest prunes the others' folders), and their report
# follows the rest's. SLURM is started first and stopped last, where this script started it:
# once SLURM is configured, every Snakemake start waits ~9 s while its daemons are down (README).
# Exits non-zero if either session fails.
set -uo pipefail
cd "$(dirname "$0")/.."

slurm_dir=""
for dir in "$PWD/.." "$PWD/../.." "$PWD/../../.."; do  # ../shared beside the checkout or a folder above it
    if [ -f "$dir/shared/slurm/start-local-slurm.sh" ]; then slurm_dir="$dir/shared/slurm"; break; fi
done
started=0
if [ -n "$slurm_dir" ] && [ "$(id -u)" = 0 ] && ! scontrol ping >/dev/null 2>&1; then
    if bash "$slurm_dir/start-local-slurm.sh" >/dev/null 2>&1; then started=1; fi  # else the fixture reports why
fi

tmp=$(mktemp -d)
pytest -m slurm --durations=5 --basetemp="$tmp/slurm" >"$tmp/slurm.log" 2>&1 &
slurm_pid=$!
pytest -m "not slurm" --durations=25 --basetemp="$tmp/rest"
rest=$?
wait "$slurm_pid"
slurm_status=$?
echo "--- the SLURM tests (pytest -m slurm), run beside the rest ---"
cat "$tmp/slurm.log"
if [ "$started" = 1 ]; then bash "$slurm_dir/stop-local-slurm.sh" >/dev/null 2>&1; fi
rm -rf "$tmp"
exit $((rest || slurm_status))
