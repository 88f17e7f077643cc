"""Read-only Snakemake calls on the audited workflow, made exactly as the run was called.

``invocation`` is the dict that the `audit` rule passes (``audit_invocation_json`` in
common.smk): the Snakefile, the command line's config files and ``--config`` overrides. The
working directory is the current one, so ``--directory`` runs and other config files work.
"""

import csv
import io
import os
import subprocess
import sys

from maskclr.errors import InputError

# The run's own targets: `audit` is not among them, so --summary never lists the audit's own
# (then still incomplete) outputs as pending when it is called from inside the audit job.
TARGET = "all"


def command(invocation, *args):
    """The snakemake command line; --config comes last because it takes any number of values."""
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        TARGET,
        "--snakefile",
        invocation["snakefile"],
        "--directory",
        os.getcwd(),
        "--nolock",
        "--quiet",
        # no profile: a SLURM profile would only slow a read-only call down
        "--profile",
        "none",
        "--workflow-profile",
        "none",
        *args,
    ]
    for path in invocation["configfiles"]:
        cmd += ["--configfile", path]
    if invocation["config_args"]:
        cmd += ["--config", *invocation["config_args"]]
    return cmd


def run(invocation, *args):
    """stdout of a nested read-only snakemake call; an InputError with its stderr if it fails."""
    env = {k: v for k, v in os.environ.items() if k != "SNAKEMAKE_PROFILE"}
    cmd = command(invocation, *args)
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise InputError(f"`{' '.join(cmd)}` failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return done.stdout


def summary(invocation):
    """(TSV text, rows as dicts) of ``snakemake --summary``: one row per output of the run."""
    text = run(invocation, "--summary")
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    if not rows or "output_file" not in rows[0]:
        raise InputError(f"snakemake --summary of {invocation['snakefile']} gave no table:\n{text[-2000:]}")
    return text, rows


def rulegraph(invocation):
    """The rule graph of the run as a mermaid diagram."""
    return run(invocation, "--rulegraph", "mermaid-js")
