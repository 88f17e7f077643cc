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


rule generate_kinect:
    """The Kinect capture of the synthetic scenes: NTU-25 joints in metres, camera space, with
    a Kinect-like sensor error (the tier of synth_3d; docs/method.md §2.4)."""
    output:
        "results/poses/synth_3d/kinect.pkl",
    log:
        "results/logs/generate_kinect.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.data.kinect"),
        synthetic=canonical(config["datasets"].get("synth", {}).get("synthetic", {})),
        sensor=canonical(config["datasets"].get("synth_3d", {}).get("sensor", {})),
    shell:
        "python -m maskclr.data.kinect --out {output:q} --synthetic-json {params.synthetic:q}"
        " --sensor-json {params.sensor:q} 2> {log:q}"
