# `snakemake audit` after a run: the audit record of every result in results/audit/.
#
# The rule depends on every result of the run (`rule all`'s targets) and on its own code, so
# `snakemake audit` first brings the run up to date, reruns the audit whenever a result is
# rebuilt, and otherwise says "Nothing to be done": the record always describes the results
# on disk. Its nested `snakemake --summary` and `--rulegraph` calls need the run's Snakemake:
# envs/audit.yaml pins the version of requirements.txt.


rule audit:
    """Named target: rule graph, --summary, one provenance record per result, an index."""
    input:
        results=run_targets(),
    output:
        summary="results/audit/summary.tsv",
        rulegraph="results/audit/rulegraph.mmd",
        run="results/audit/run.json",
        index="results/audit/index.csv",
        records=directory("results/audit/provenance"),
    log:
        "results/logs/audit.log",
    conda:
        "../../envs/audit.yaml"
    params:
        code=job_code("maskclr.audit"),
        invocation=audit_invocation_json(),
    shell:
        "python -m maskclr.audit record --invocation-json {params.invocation:q}"
        " --audit-dir results/audit 2> {log:q}"
