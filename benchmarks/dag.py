"""Dry-run time of the paper DAG (issue target: at most 3 s on one core for the full grid).

    python benchmarks/dag.py [--repeats 5]

Times `snakemake -n` of the paper configuration (360 jobs, no data present) under the SLURM
profile, against two references measured in the same process: `snakemake --version` (start-up
and imports, the floor of any call) and the dry-run of the demo configuration. Pinned to one
core with taskset where available. Prints the best of the repeats and the ratios.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PROFILE = ["--profile", str(REPO / "workflow" / "profiles" / "slurm"), "--sdm", "env-modules"]


def timed(args, workdir):
    """Wall seconds of one snakemake call, pinned to core 0 (fails loudly on error)."""
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    cmd = [
        *pin,
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        *args,
    ]
    started = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return elapsed, result.stdout


def job_count(stdout):
    return next(int(line.split()[1]) for line in stdout.splitlines() if line.startswith("total"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    env_path = os.path.dirname(sys.executable)
    os.environ["PATH"] = os.pathsep.join([env_path, os.environ["PATH"]])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copy(REPO / "config.yaml", work / "config.yaml")
        cases = {
            "snakemake --version": ["--version"],
            "demo -n": [*PROFILE, "-n", "--quiet", "rules"],
            "paper -n": [
                "--configfile",
                str(REPO / "workflow" / "configs" / "paper.yaml"),
                *PROFILE,
                "-n",
                "--quiet",
                "rules",
            ],
        }
        best, jobs = {}, {}
        for _ in range(args.repeats):  # interleaved, so that machine noise hits every case alike
            for name, case in cases.items():
                elapsed, stdout = timed(case, work)
                best[name] = min(best.get(name, float("inf")), elapsed)
                if name != "snakemake --version":
                    jobs[name] = job_count(stdout)
    print(f"best of {args.repeats}, one core:")
    for name, seconds in best.items():
        extra = f"  ({jobs[name]} jobs)" if name in jobs else ""
        print(f"  {name:22s} {seconds:6.2f} s{extra}")
    floor = best["snakemake --version"]
    print(f"paper / demo dry-run:           {best['paper -n'] / best['demo -n']:.2f}")
    print(
        f"paper dry-run above start-up:   {best['paper -n'] - floor:.2f} s "
        f"({1000 * (best['paper -n'] - floor) / jobs['paper -n']:.1f} ms per job)"
    )
    print(f"target <= 3 s: {'met' if best['paper -n'] <= 3 else 'missed'}")


if __name__ == "__main__":
    main()
