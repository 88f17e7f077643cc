rule preprocess:
    """MotionBERT preprocessing of one split to HDF5 (train and test groups)."""
    input:
        poses="results/poses/{dataset}/{estimator}.pkl",
    output:
        "results/data/{dataset}/{estimator}/{split}.h5",
    log:
        "results/logs/preprocess/{dataset}/{estimator}/{split}.log",
    conda:
        "../../envs/data.yaml"
    params:
        code=job_code("maskclr.data.preprocess"),
        pre=canonical(config["preprocess"]),
        num_classes=lambda wc: dataset_cfg(wc)["num_classes"],
    shell:
        "python -m maskclr.data.preprocess --poses {input.poses:q} --split {wildcards.split:q}"
        " --out {output:q} --preprocess-json {params.pre:q} --num-classes {params.num_classes:q}"
        " 2> {log:q}"
