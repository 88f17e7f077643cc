"""docs/method.md, the method notes that code, config and captions cite: every citation in the
repository names a section or open question that the notes have."""

import re

from conftest import REPO

NOTES = REPO / "docs" / "method.md"
# "docs/method.md §2.3 steps 1–6", "§4.2–4.3", "§3.1, §6", "§2.1/Q7", "Q8"
CITATION = re.compile(r"docs/method\.md\s*((?:(?:§|Q)[\d.]+(?:[–-][\d.]+)?[\s,/;]*)+)")
REFERENCE = re.compile(r"(§|Q)(\d+(?:\.\d+)?)(?:[–-](\d+(?:\.\d+)?))?")
SKIPPED = {".git", ".venv", ".snakemake", "results", "__pycache__", ".pytest_cache"}


def repository_texts():
    for path in REPO.rglob("*"):
        if path.is_file() and not SKIPPED & set(path.relative_to(REPO).parts) and path != NOTES:
            try:
                yield path, path.read_text()
            except UnicodeDecodeError:
                continue


def targets():
    """{'§2.3', '§4', ..., 'Q7', ...}: the numbered headings and question rows of the notes."""
    text = NOTES.read_text()
    sections = {f"§{m[1]}" for m in re.finditer(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", text, re.M)}
    return sections | {f"Q{m[1]}" for m in re.finditer(r"^\| Q(\d+) \|", text, re.M)}


def test_the_notes_number_their_sections_and_questions():
    known = targets()
    assert {f"§{n}" for n in range(1, 11)} <= known
    assert {f"§2.{n}" for n in range(1, 5)} | {f"§7.{n}" for n in range(1, 6)} <= known
    assert {f"Q{n}" for n in range(1, 15)} <= known


def test_every_citation_points_at_a_section_that_exists():
    known, cited, missing = targets(), 0, []
    for path, text in repository_texts():
        for chain in CITATION.finditer(text):
            for kind, first, last in REFERENCE.findall(chain[1]):
                for number in filter(None, (first, last)):
                    cited += 1
                    if f"{kind}{number}" not in known:
                        missing.append(f"{path.relative_to(REPO)}: {chain[0].strip()}")
    assert cited > 50  # the pattern still finds the citations
    assert not missing, missing
