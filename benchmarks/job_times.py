"""Wall time per job of a Snakemake run, read from its logs: how README.md's per-job tables were made.

    python benchmarks/job_times.py [LOG ...] [--reference train_stage1:dstformer]

LOG defaults to the newest of .snakemake/log/*.snakemake.log; several logs (a run resumed in parts)
are read together. A job runs from the timestamp above its ``rule`` block to the one above its
``Finished jobid`` line, so with ``--cores 2`` each time is that of a job sharing the machine with
one other, and a pause of the run (SIGSTOP) counts in the jobs it caught. Prints, per rule and
backbone, the count and the mean, min and max seconds; for trainings, the share of the job spent in
its epochs' training loops (``wall_time_s`` of its metrics.json, in the log's run directory: the rest
is the test evaluations (every ``test_every``-th epoch), the checkpoints and the job's start); each mean against the
reference row's; then each log's span from its first to its last timestamp, against its jobs'
seconds divided by its cores (1.00×: no core idle from the first job to the last). A job retried
within the run counts from its first attempt; a training resumed in a later run counts the epochs
of its earlier run too, so its share comes out too high.
"""

import argparse
import json
import re
import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path

STAMP = re.compile(r"\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
RULE = re.compile(r"(?:local)?rule (\w+):$")
JOBID = re.compile(r"\s+jobid: (\d+)$")
WILDCARDS = re.compile(r"\s+wildcards: (.*)$")
FINISHED = re.compile(r"Finished jobid: (\d+)")
CORES = re.compile(r"Provided cores: (\d+)")


TRAINING = {"train_stage1", "train_stage2"}
METRICS = "results/models/{dataset}/{split}/{backbone}/{run}/seed{seed}/metrics.json"


def parse(lines):
    """({(rule, backbone or "-"): [(seconds, wildcards) of each finished job]}, (first, last timestamp),
    the cores Snakemake was given or None)."""
    stamps, started, durations, cores = [], {}, defaultdict(list), None
    job = None  # the rule block being read: {"rule", "start", "wildcards"}
    for line in lines:
        if match := CORES.match(line):
            cores = int(match[1])
        elif match := STAMP.match(line):
            stamps.append(datetime.strptime(" ".join(match[1].split()), "%a %b %d %H:%M:%S %Y"))
        elif match := RULE.match(line):
            job = {"rule": match[1], "start": stamps[-1], "wildcards": {}}
        elif job and (match := JOBID.match(line)):
            started.setdefault(match[1], job)  # a retry prints the job's block again: keep its first start
        elif job and (match := WILDCARDS.match(line)):
            job["wildcards"] = dict(item.split("=", 1) for item in match[1].split(", ") if "=" in item)
        elif (match := FINISHED.match(line)) and match[1] in started:
            done = started.pop(match[1])
            key = done["rule"], done["wildcards"].get("backbone", "-")
            durations[key].append(((stamps[-1] - done["start"]).total_seconds(), done["wildcards"]))
    return durations, (stamps[0], stamps[-1]) if stamps else None, cores


def loop_share(rule, jobs):
    """The mean share of a training job's seconds spent in its training loops (its metrics.json's
    ``wall_time_s``), over the jobs (seconds, wildcards, run directory) whose metrics.json has it;
    None for other rules or without any."""
    if rule not in TRAINING:
        return None
    shares = []
    for seconds, wildcards, run in jobs:
        path = run / METRICS.format(**wildcards)
        loop = json.loads(path.read_text()).get("wall_time_s") if path.exists() else None
        if loop is not None and seconds > 0:
            shares.append(loop / seconds)
    return statistics.mean(shares) if shares else None


def newest_log():
    logs = sorted(Path(".snakemake/log").glob("*.snakemake.log"))
    if not logs:
        raise SystemExit(".snakemake/log has no *.snakemake.log: run from the run's directory or name a log")
    return logs[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("logs", nargs="*", type=Path)
    parser.add_argument("--reference", default="train_stage1:dstformer", metavar="RULE:BACKBONE")
    args = parser.parse_args()
    durations, spans = defaultdict(list), []
    for log in args.logs or [newest_log()]:
        found, span, cores = parse(log.read_text().splitlines())
        run = log.resolve().parents[2]  # <run>/.snakemake/log/<name>.snakemake.log
        for key, jobs in found.items():
            durations[key] += [(seconds, wildcards, run) for seconds, wildcards in jobs]
        spans.append((log, span, cores, sum(seconds for jobs in found.values() for seconds, _ in jobs)))
    reference = durations.get(tuple(args.reference.split(":", 1)))
    base = statistics.mean(job[0] for job in reference) if reference else None
    header = f"{'rule':20s} {'backbone':12s} {'jobs':>5s} {'mean s':>8s} {'min':>6s} {'max':>6s} {'in loop':>7s}"
    print(f"{header}  vs {args.reference}")
    for (rule, backbone), jobs in sorted(durations.items()):
        seconds = [job[0] for job in jobs]
        mean, share = statistics.mean(seconds), loop_share(rule, jobs)
        ratio = f"{mean / base:.2f}" if base else "(no reference jobs)"
        columns = f"{min(seconds):6.0f} {max(seconds):6.0f} {'-' if share is None else f'{share:.2f}':>7s}"
        print(f"{rule:20s} {backbone:12s} {len(seconds):5d} {mean:8.1f} {columns}  {ratio}")
    for log, span, cores, busy in spans:
        line = f"{log}: {span[1] - span[0]} from first to last timestamp" if span else f"{log}: no timestamps"
        if span and cores and busy:
            packed, wall = busy / cores, (span[1] - span[0]).total_seconds()
            line += f", {wall / packed:.2f}× its jobs' time over its {cores} cores ({packed:.0f} s)"
        print(line)


if __name__ == "__main__":
    main()
