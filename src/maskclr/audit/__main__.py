"""``python -m maskclr.audit record|verify`` (see the package docstring).

    python -m maskclr.audit record --invocation-json '{"snakefile": …}' --audit-dir results/audit
    python -m maskclr.audit verify [--audit-dir results/audit]

``verify`` prints one line per result that no longer matches its record and exits 1, or one
summary line and exits 0; a missing or empty audit directory exits 2.
"""

import argparse
import sys

from maskclr.audit import record, verify
from maskclr.errors import run_cli
from maskclr.settings import json_object

DEFAULT_DIR = "results/audit"


def parse(argv):
    parser = argparse.ArgumentParser(prog="python -m maskclr.audit", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="write the audit record (run by `snakemake audit`)")
    rec.add_argument(
        "--invocation-json",
        required=True,
        help="snakefile, configfiles and config_args of the run (from the audit rule)",
    )
    rec.add_argument("--audit-dir", default=DEFAULT_DIR)
    ver = commands.add_parser("verify", help="re-hash the results, inputs and code, re-check the config")
    ver.add_argument("--audit-dir", default=DEFAULT_DIR)
    return parser.parse_args(argv)


def invocation(text):
    return json_object(text, "--invocation-json", ("snakefile", "configfiles", "config_args"))


def main(argv=None):
    args = parse(argv)
    if args.command == "record":
        records = record.record(invocation(args.invocation_json), args.audit_dir)
        print(f"recorded {len(records)} results in {args.audit_dir}", file=sys.stderr)
        return
    report, count = verify.verify(args.audit_dir)
    for result, changes in sorted(report.items()):
        print(f"{result}: {'; '.join(changes)}")
    if report:
        print(f"{len(report)} of {count} results no longer match {args.audit_dir}", file=sys.stderr)
        sys.exit(1)
    print(f"all {count} results in {args.audit_dir} match their records (result, inputs, code, config)")


if __name__ == "__main__":
    run_cli(main)
