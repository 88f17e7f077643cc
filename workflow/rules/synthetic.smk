rule generate_synthetic:
    """The embedded NTU-like dataset: ground-truth 2D skeletons in PYSKL format."""
    output:
        "results/raw/synth/scenes.pkl",
    log:
        "results/logs/generate_synthetic.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.data.synthetic"),
        synthetic=canonical(config["datasets"].get("synth", {}).get("synthetic", {})),
    shell:
        "python -m maskclr.data.synthetic --out {output:q} --synthetic-json {params.synthetic:q}"
        " 2> {log:q}"
