"""``python -m maskclr.paper.readme``: refresh the generated sections of README.md.

Each section sits between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` and is rewritten
from a generated file, never by hand:

    python -m maskclr.paper.readme --readme README.md --section rulegraph=workflow/report/rulegraph.mmd

A ``.mmd`` file becomes a mermaid block, a ``.csv`` file a Markdown table (numbers with a
fraction to one decimal), a ``.png`` file an image link, and a ``.md`` file is inserted as it is.
"""

import argparse
import csv
import re
from pathlib import Path

from maskclr.errors import InputError, run_cli
from maskclr.fileio import atomic_output


def render(path, readme_dir):
    """Markdown for one generated file."""
    path = Path(path)
    if path.suffix == ".mmd":
        return "```mermaid\n" + path.read_text().strip() + "\n```"
    if path.suffix == ".csv":
        rows = list(csv.reader(path.open(newline="")))
        lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        return "\n".join(lines + ["| " + " | ".join(map(cell, row)) + " |" for row in rows[1:]])
    if path.suffix == ".png":
        return f"![{path.stem}]({path.relative_to(readme_dir) if path.is_absolute() else path})"
    return path.read_text().strip()


def cell(text):
    """A CSV cell for a Markdown table: 93.8765 → 93.9; integers and words as they are."""
    try:
        int(text)
        return text
    except ValueError:
        pass
    try:
        return f"{float(text):.1f}"
    except ValueError:
        return text


def replace_section(text, name, body, readme):
    pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise InputError(f"{readme}: no section markers <!-- {name}:start --> ... <!-- {name}:end -->")
    return pattern.sub(lambda m: m[1] + body + "\n" + m[2], text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m maskclr.paper.readme", description=__doc__.split("\n")[0])
    parser.add_argument("--readme", default="README.md")
    parser.add_argument("--section", action="append", required=True, metavar="NAME=FILE")
    args = parser.parse_args(argv)
    readme = Path(args.readme)
    if not readme.is_file():
        raise InputError(f"{readme}: missing; run from the repository root or give --readme")
    text = readme.read_text()
    for item in args.section:
        name, path = item.split("=", 1)
        if not Path(path).exists():
            raise InputError(f"{path}: missing (section '{name}' of {readme}); build it first")
        text = replace_section(text, name, render(path, readme.parent), readme)
    with atomic_output(readme) as tmp:
        tmp.write_text(text)


if __name__ == "__main__":
    run_cli(main)
