rule extract_poses:
    """Run the configured estimator of a quality tier over a dataset's source items."""
    input:
        source=pose_source,
        code=src_files("poses/*.py", "data/pyskl.py", "data/joints.py"),
    output:
        "results/poses/{dataset}/{estimator}.pkl",
    log:
        "results/logs/extract_poses/{dataset}/{estimator}.log",
    conda:
        "../../envs/data.yaml"
    params:
        spec=estimator_json,
        seed=lambda wc: dataset_cfg(wc).get("synthetic", {}).get("seed", 0),
    shell:
        "python -m maskclr.poses.extract --source {input.source} --estimator-json {params.spec:q}"
        " --tier {wildcards.estimator} --seed {params.seed} --out {output} 2> {log}"


rule pose_quality:
    """Error, detection rate and score calibration of a simulated estimator against the truth."""
    input:
        truth="results/raw/synth/scenes.pkl",
        poses="results/poses/synth/{estimator}.pkl",
        code=src_files("poses/quality.py", "data/pyskl.py"),
    output:
        "results/poses/synth/{estimator}.quality.json",
    log:
        "results/logs/pose_quality/{estimator}.log",
    conda:
        "../../envs/data.yaml"
    shell:
        "python -m maskclr.poses.quality --truth {input.truth} --poses {input.poses}"
        " --out {output} 2> {log}"
