"""``python -m maskclr.audit verify``: do the results on disk still match their audit record?

Per record: the result, every input and every code file (by package path, under src/) are
re-hashed and compared with the recorded SHA-256. The config is checked by Snakemake itself: a
nested ``snakemake --summary``, called as the audited run was (same Snakefile and config files,
read now), says ``params changed`` for every output whose job would now get other params than
it ran with, and no longer lists results the current config does not make. Snakemake names one
reason per output, inputs first, so a config change behind an updated input shows once the
input is restored; the input is reported either way. The code is a param too: for a result
whose code changed, ``params changed`` is the code, and a config change behind it shows once
the code is restored. A job rerun since the audit with other params shows as a changed result
and, from its new Snakemake metadata, as a config change.
"""

import json
from pathlib import Path

from maskclr.audit import metadata, nested
from maskclr.audit.record import SRC, file_sha256, split_params
from maskclr.errors import InputError


def load(audit_dir):
    """(run.json, records) of an audit directory; InputError if there is none."""
    audit_dir = Path(audit_dir)
    run_file = audit_dir / "run.json"
    if not run_file.is_file():
        raise InputError(
            f"{run_file}: no audit record (run `snakemake audit` in the workflow "
            "directory first, then verify from that directory)"
        )
    records = [json.loads(p.read_text()) for p in sorted((audit_dir / "provenance").rglob("*.json"))]
    if not records:
        raise InputError(f"{audit_dir / 'provenance'}: no provenance records")
    return json.loads(run_file.read_text()), records


def current_sha256(path):
    return file_sha256(path) if Path(path).exists() else None


def changed(what, now, digest):
    return [] if now == digest else [what + (" (missing)" if now is None else "")]


def code_changes(record, src=SRC):
    """The package files of a record's code that differ now (``src``: the root of their names)."""
    files = record["code"]["files"]
    return [c for name, d in files.items() for c in changed(f"code changed: {name}", current_sha256(src / name), d)]


def file_changes(record, src=SRC):
    """What changed on disk for one record: the result itself, its code files, its inputs."""
    result = current_sha256(record["result"])
    changes = [] if result == record["sha256"] else ["result " + ("missing" if result is None else "changed")]
    changes += code_changes(record, src)
    for path, digest in record["inputs"].items():
        changes += changed(f"input changed: {path}", current_sha256(path), digest)
    return changes


def rerun_with_other_params(record):
    """True if Snakemake's metadata now holds other params than the record (a rerun since)."""
    try:
        _, meta = metadata.read(record["result"])
    except InputError:
        return False  # no metadata: nothing to compare; the result hash still speaks
    return split_params(meta.get("params") or [])[0] != record["config"]["params"]


def config_changes(run, records):
    """{result: reason} for results whose config slice no longer matches the record."""
    _, rows = nested.summary(run["invocation"])
    status = {row["output_file"]: row["status"] for row in rows}
    changes = {}
    for r in records:
        if r["result"] not in status:
            changes[r["result"]] = "config changed: no longer a result of the configured run"
        elif (status[r["result"]] == "params changed" and not code_changes(r)) or rerun_with_other_params(r):
            changes[r["result"]] = f"config changed: params of rule {r['rule']}"
    return changes


def verify(audit_dir):
    """{result: [what changed]} for every mismatching result (empty when all match)."""
    run, records = load(audit_dir)
    config = config_changes(run, records)
    report = {}
    for r in records:
        changes = file_changes(r) + ([config[r["result"]]] if r["result"] in config else [])
        if changes:
            report[r["result"]] = changes
    return report, len(records)
