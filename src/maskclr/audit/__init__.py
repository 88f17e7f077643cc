"""The audit record of a finished run and its verification (``python -m maskclr.audit``).

``record`` (run by ``snakemake audit``) writes ``results/audit/``: the rule graph, Snakemake's
``--summary``, ``run.json`` (how the workflow was called, git state, package versions),
``index.csv`` and one provenance record per result under ``provenance/``. ``verify`` re-hashes
what is on disk and names every result whose inputs, code or config no longer match its record.
"""
