rule table:
    """Tables 1-3 of the paper from results/metrics.csv, booktabs TeX and CSV."""
    input:
        metrics="results/metrics.csv",
        paper=repo_file("resources/paper_numbers.csv"),
    output:
        tex=report(
            "results/tables/{table}.tex",
            caption="../report/table.rst",
            category="Tables",
            labels={"table": "{table}", "format": "TeX"},
        ),
        csv=report(
            "results/tables/{table}.csv",
            caption="../report/table.rst",
            category="Tables",
            labels={"table": "{table}", "format": "CSV"},
        ),
    log:
        "results/logs/paper/{table}.log",
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.tables"),
        settings=paper_settings_json("tables", "{table}"),
    shell:
        "python -m maskclr.paper.tables {wildcards.table:q} --metrics {input.metrics:q}"
        " --paper {input.paper:q} --settings-json {params.settings:q} --out-tex {output.tex:q}"
        " --out-csv {output.csv:q} 2> {log:q}"


rule grid_table_markdown:
    """The noise and occlusion tables as Markdown (the README's sections), from their CSV."""
    input:
        "results/tables/{table}.csv",
    output:
        "results/tables/{table}.md",
    log:
        "results/logs/paper/{table}_md.log",
    wildcard_constraints:
        table="|".join(GRID_MARKDOWN),
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.grid_markdown"),
        settings=paper_settings_json("tables", "{table}"),
    shell:
        "python -m maskclr.paper.grid_markdown {wildcards.table:q} --csv {input:q}"
        " --settings-json {params.settings:q} --out {output:q} 2> {log:q}"


rule figure:
    """Figures 5, 6, top-1 per class, the training curves and the pretraining losses from
    results/metrics.csv."""
    input:
        metrics="results/metrics.csv",
    output:
        pdf="results/figures/{figure}.pdf",
        png=report(
            "results/figures/{figure}.png",
            caption="../report/figure.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
    log:
        "results/logs/paper/{figure}.log",
    wildcard_constraints:
        figure="fig5|fig6|classes|training_curves|pretraining",
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.figures"),
        settings=paper_settings_json("figures", "{figure}"),
    shell:
        "python -m maskclr.paper.figures {wildcards.figure:q} --metrics {input.metrics:q}"
        " --settings-json {params.settings:q} --out-pdf {output.pdf:q} --out-png {output.png:q}"
        " 2> {log:q}"


rule activation_figure:
    """Skeletons coloured by the mean joint activation per class, per method."""
    input:
        activations=activation_inputs(),
    output:
        pdf="results/figures/activation.pdf",
        png=report(
            "results/figures/activation.png",
            caption="../report/activation.rst",
            category="Figures",
            labels={"figure": "activation"},
        ),
    log:
        "results/logs/paper/activation.log",
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.figures"),
        settings=paper_settings_json("figures", "activation"),
    shell:
        "python -m maskclr.paper.figures activation --activations {input.activations:q}"
        " --settings-json {params.settings:q} --out-pdf {output.pdf:q} --out-png {output.png:q}"
        " 2> {log:q}"


rule robustness_summary:
    """Baseline vs MaskCLR per perturbation group, paired by seed, with a stated verdict (the
    baseline's groups alone where paper.table_methods names one method)."""
    input:
        metrics="results/metrics.csv",
    output:
        csv=report(
            "results/tables/robustness_summary.csv",
            caption="../report/robustness_summary.rst",
            category="Tables",
            labels={"table": "robustness_summary", "format": "CSV"},
        ),
        md="results/tables/robustness_summary.md",
    log:
        "results/logs/paper/robustness_summary.log",
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.summary"),
        settings=paper_settings_json("summary", "robustness_summary"),
    shell:
        "python -m maskclr.paper.summary --metrics {input.metrics:q} --settings-json {params.settings:q}"
        " --out-csv {output.csv:q} --out-md {output.md:q} 2> {log:q}"


rule robustness_by_model:
    """Every model's methods against its baseline per perturbation group, paired by seed, and how
    many differences are significant beside the count expected by chance."""
    input:
        metrics="results/metrics.csv",
    output:
        csv=report(
            "results/tables/robustness_by_model.csv",
            caption="../report/robustness_by_model.rst",
            category="Tables",
            labels={"table": "robustness_by_model", "format": "CSV"},
        ),
        tex="results/tables/robustness_by_model.tex",
        md="results/tables/robustness_by_model.md",
    log:
        "results/logs/paper/robustness_by_model.log",
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.by_model"),
        settings=paper_settings_json("by_model", "robustness_by_model"),
    shell:
        "python -m maskclr.paper.by_model --metrics {input.metrics:q} --settings-json {params.settings:q}"
        " --out-csv {output.csv:q} --out-tex {output.tex:q} --out-md {output.md:q} 2> {log:q}"


rule confusion:
    """Where each of paper.error_conditions' errors go: the robustness model's confusion clean and
    perturbed over its seeds, and its flow to the partner and the class groups."""
    input:
        confusions=confusion_inputs(),
    output:
        csv=report(
            "results/tables/confusion.csv",
            caption="../report/confusion.rst",
            category="Tables",
            labels={"table": "confusion", "format": "CSV"},
        ),
        flow=report(
            "results/tables/error_flow.csv",
            caption="../report/confusion.rst",
            category="Tables",
            labels={"table": "error_flow", "format": "CSV"},
        ),
        md="results/tables/error_flow.md",
    log:
        "results/logs/paper/confusion.log",
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.confusion"),
        settings=paper_settings_json("confusion", "confusion"),
    shell:
        "python -m maskclr.paper.confusion --confusions {input.confusions:q} --settings-json {params.settings:q}"
        " --out-csv {output.csv:q} --out-flow {output.flow:q} --out-md {output.md:q} 2> {log:q}"


rule confusion_figure:
    """The confusion table as matrices: clean, and what each error condition adds, per method and
    MaskCLR − baseline."""
    input:
        "results/tables/confusion.csv",
    output:
        pdf="results/figures/confusion.pdf",
        png=report(
            "results/figures/confusion.png",
            caption="../report/confusion.rst",
            category="Figures",
            labels={"figure": "confusion"},
        ),
    log:
        "results/logs/paper/confusion_figure.log",
    conda:
        "../../envs/paper.yaml"
    params:
        code=job_code("maskclr.paper.figures"),
        settings=paper_settings_json("figures", "confusion"),
    shell:
        "python -m maskclr.paper.figures confusion --confusion {input:q} --settings-json {params.settings:q}"
        " --out-pdf {output.pdf:q} --out-png {output.png:q} 2> {log:q}"
