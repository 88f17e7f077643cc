rule preprocess:
    """MotionBERT preprocessing of one split to HDF5 (train and test groups)."""
    input:
        poses="results/poses/{dataset}/{estimator}.pkl",
        code=src_files("data/preprocess.py", "data/pyskl.py", "data/joints.py"),
    output:
        "results/data/{dataset}/{estimator}/{split}.h5",
    log:
        "results/logs/preprocess/{dataset}/{estimator}/{split}.log",
    conda:
        "../../envs/data.yaml"
    params:
        pre=config["preprocess"],
        num_classes=lambda wc: dataset_cfg(wc)["num_classes"],
    shell:
        "python -m maskclr.data.preprocess --poses {input.poses} --split {wildcards.split}"
        " --out {output} --n-frames {params.pre[n_frames]} --num-classes {params.num_classes}"
        " --score-channel {params.pre[score_channel]} --max-persons {params.pre[max_persons]}"
        " --seed {params.pre[seed]} 2> {log}"
