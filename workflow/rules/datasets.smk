rule fetch:
    """A released file (skeletons, keypoint archive, weights): a configured local copy, linked,
    or the first mirror that answers; verified against its sha256."""
    output:
        "resources/downloads/{file}",
    log:
        "results/logs/fetch/{file}.log",
    wildcard_constraints:
        file=alternation(d["file"] for d in config.get("downloads", {}).values()),
    conda:
        "../../envs/data.yaml"
    params:
        download=download_spec,
    shell:
        "python -m maskclr.data.fetch --name {params.download[0]:q}"
        " --spec-json {params.download[1]:q} --out {output:q} 2> {log:q}"


rule import_release:
    """A dataset's PYSKL HRNet release as the poses of a tier (the paper's MQ), checked against
    the expected split sizes and class count."""
    input:
        unpack(release_inputs),
    output:
        "results/poses/{pose_set}.pkl",
    log:
        "results/logs/import_release/{pose_set}.log",
    wildcard_constraints:
        pose_set=alternation(pose_sets(imported=True)),
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.data.releases"),
        args=release_args,
    shell:
        "python -m maskclr.data.releases {params.args:q} --release {input.release:q}"
        " --out {output:q} 2> {log:q}"


rule list_videos:
    """The videos of a real dataset's released sequences: the source of its extracted tiers."""
    input:
        release=lambda wc: download_file(dataset_cfg(wc)["release"]),
    output:
        "results/raw/{dataset}/videos.pkl",
    log:
        "results/logs/list_videos/{dataset}.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.poses.sources"),
        videos=lambda wc: dataset_cfg(wc).get("videos") or "",
        pattern=lambda wc: dataset_cfg(wc).get("video_pattern", "{frame_dir}_rgb.avi"),
        splits=lambda wc: dataset_cfg(wc)["splits"],
    shell:
        "python -m maskclr.poses.sources --release {input.release:q} --videos {params.videos:q}"
        " --pattern {params.pattern:q} --splits {params.splits:q} --out {output:q} 2> {log:q}"


rule split_lists:
    """Each split of a dataset as a plain list of sequence ids, for audit."""
    input:
        poses=lambda wc: f"results/poses/{wc.dataset}/{train_tier(wc.dataset)}.pkl",
    output:
        directory("results/splits/{dataset}"),
    log:
        "results/logs/split_lists/{dataset}.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.data.pyskl"),
        format=lambda wc: pose_format(wc.dataset),
    shell:
        "python -m maskclr.data.pyskl splits {input.poses:q} --format {params.format:q}"
        " --out-dir {output:q} 2> {log:q}"
