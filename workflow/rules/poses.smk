rule extract_poses:
    """Run the estimator of a quality tier over one shard of a dataset's source items."""
    input:
        unpack(estimator_downloads),
        source=lambda wc: source_file(wc.dataset),
        user=user_code,
    output:
        "results/poses/{dataset}/{estimator}/shard{shard}.pkl",
    log:
        "results/logs/extract_poses/{dataset}/{estimator}/shard{shard}.log",
    conda:
        estimator_env
    resources:
        gpu=lambda wc: 0 if estimator_spec(wc)["type"] == "simulated" else 1,
    params:
        code=estimator_code,
        spec=estimator_json,
        seed=lambda wc: dataset_cfg(wc).get("synthetic", {}).get("seed", 0),
        shards=lambda wc: shards(wc.dataset),
    shell:
        "python -m maskclr.poses.extract run --source {input.source:q}"
        " --estimator-json {params.spec:q} --tier {wildcards.estimator:q} --seed {params.seed:q}"
        " --shard {wildcards.shard:q} --shards {params.shards:q} --out {output:q} 2> {log:q}"


rule merge_poses:
    """The shards of one extracted tier, in source order, as one PYSKL file."""
    input:
        source=lambda wc: source_file(split_pose_set(wc)[0]),
        shards=shard_files,
    output:
        "results/poses/{pose_set}.pkl",
    log:
        "results/logs/merge_poses/{pose_set}.log",
    wildcard_constraints:
        pose_set=alternation(pose_sets(imported=False)),
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.poses.extract"),
    shell:
        "python -m maskclr.poses.extract merge --source {input.source:q} --out {output:q}"
        " {input.shards:q} 2> {log:q}"


rule pose_quality:
    """Error, detection rate and score calibration of a simulated estimator against the truth."""
    input:
        truth="results/raw/synth/scenes.pkl",
        poses="results/poses/synth/{estimator}.pkl",
    output:
        "results/poses/synth/{estimator}.quality.json",
    log:
        "results/logs/pose_quality/{estimator}.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.poses.quality"),
    shell:
        "python -m maskclr.poses.quality --truth {input.truth:q} --poses {input.poses:q}"
        " --out {output:q} 2> {log:q}"
