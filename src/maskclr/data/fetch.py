"""Obtain one released file (a PYSKL skeleton release, an archive of keypoint files, weights).

    python -m maskclr.data.fetch --name ntu60_hrnet --spec-json '{"urls": [...], ...}' \\
        --out resources/downloads/ntu60_hrnet.pkl

The spec is one entry of the config's ``downloads:``: ``path`` (a local copy, which always wins),
``urls`` (mirrors, tried in order: release links have moved before) and ``sha256``. A local
copy is linked, not copied (the releases are gigabytes). The checksum is verified here rather
than by Snakemake's ``ensure(sha256=...)``, which silently skips files above
``--max-checksum-file-size`` (1 MB by default) and cannot be optional. Without a pinned
checksum the file is accepted and its sha256 is printed so that it can be pinned.
"""

import argparse
import http.client
import os
import shutil
import sys
import urllib.request
from pathlib import Path

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output, sha256
from maskclr.settings import json_object

TIMEOUT_S = 60


def check_sha256(name, path, expected, origin):
    """Raise naming the file and its origin when ``path`` does not hash to ``expected``."""
    actual = sha256(path)
    if expected is None:
        print(
            f"warning: downloads.{name}: no sha256 pinned; {origin} has sha256 {actual} "
            f"(pin it as downloads.{name}.sha256 to verify later copies)",
            file=sys.stderr,
        )
    elif actual != expected.lower():
        raise InputError(
            f"downloads.{name}: {origin} has sha256 {actual}, expected {expected} "
            f"(key downloads.{name}.sha256): the file is corrupt, truncated or another "
            "version; delete it and fetch again, or fix the checksum"
        )


def link_local(name, spec, out):
    """Verify the user's copy and link it at ``out`` (atomically: a link made beside, then renamed)."""
    source = Path(spec["path"]).expanduser().resolve()
    if not source.is_file():
        raise InputError(
            f"downloads.{name}.path: {source} does not exist or is not a file "
            f"(expected your copy of {Path(out).name}; unset the key to download it)"
        )
    check_sha256(name, source, spec.get("sha256"), f"the local copy {source}")
    staging = Path(out).with_name(f".{Path(out).name}.link")
    staging.unlink(missing_ok=True)
    staging.symlink_to(source)
    os.replace(staging, out)


# What a failed transfer can raise: network and HTTP errors (OSError, URLError), a chunked
# response cut short (http.client.IncompleteRead and other HTTPExceptions), a URL urllib cannot
# open (ValueError: no scheme) and a wrong checksum (InputError). Each means: try the next mirror.
TRANSFER_ERRORS = (OSError, http.client.HTTPException, ValueError, InputError)


def download(url, out):
    """Stream ``url`` into ``out``; raise OSError when the byte count differs from the response's
    Content-Length (a connection cut short otherwise ends like a complete file)."""
    with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response, open(out, "wb") as sink:
        shutil.copyfileobj(response, sink, 1 << 20)
        announced, received = response.headers.get("Content-Length", ""), sink.tell()
    if announced.isdigit() and int(announced) != received:
        raise OSError(f"truncated transfer: received {received} of the {announced} bytes of its Content-Length")


def fetch_mirrors(name, spec, out):
    """Download from the first mirror that answers and verify it; nothing is left on failure."""
    urls = spec.get("urls") or []
    if not urls:
        raise InputError(
            f"downloads.{name}: neither 'path' nor 'urls' is set: download "
            f"{Path(out).name} yourself and set downloads.{name}.path to it"
        )
    failures = []
    for url in urls:
        try:
            with atomic_output(out) as tmp:
                download(url, tmp)
                check_sha256(name, tmp, spec.get("sha256"), f"the file from {url}")
            print(f"downloads.{name}: fetched {url}", file=sys.stderr)
            return
        except TRANSFER_ERRORS as err:
            failures.append(f"{url}: {type(err).__name__}: {err}")
    raise InputError(
        f"downloads.{name}: no mirror gave a valid {Path(out).name} "
        f"(key downloads.{name}.urls):\n  "
        + "\n  ".join(failures)
        + f"\nWithout network, download it elsewhere and set downloads.{name}.path."
    )


def obtain(name, spec, out):
    """A local copy if configured, else the mirrors; ``out`` exists afterwards, verified."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    if spec.get("path"):
        link_local(name, spec, out)
    else:
        fetch_mirrors(name, spec, out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.data.fetch", description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True, help="the key under downloads: in the config")
    parser.add_argument("--spec-json", required=True, help="that entry: {path, urls, sha256}")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    obtain(args.name, json_object(args.spec_json, "--spec-json"), args.out)


if __name__ == "__main__":
    run_cli(main)
