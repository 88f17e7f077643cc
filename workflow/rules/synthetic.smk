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
        gen=config["datasets"].get("synth", {}).get("synthetic", {}),
    shell:
        "python -m maskclr.data.synthetic --out {output:q} --seed {params.gen[seed]:q}"
        " --subjects {params.gen[subjects]:q} --replications {params.gen[replications]:q}"
        " --min-frames {params.gen[min_frames]:q} --max-frames {params.gen[max_frames]:q}"
        " 2> {log:q}"
