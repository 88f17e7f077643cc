rule pretrain:
    """Self-supervised pretraining of one backbone on a split's training part (MAMP, SkeletonMAE;
    docs/method.md §3.3, §3.4): the checkpoint that the stage 1 of its models fine-tunes from.
    Resumable and multi-GPU as train_stage1: state per epoch in the work dir, status 3 (retried)
    when the time budget would run out.
    """
    input:
        data=train_data,
        user=user_code,
    output:
        model="results/pretrain/{dataset}/{split}/{backbone}/{pretrain}/seed{seed}/model.pt",
        metrics="results/pretrain/{dataset}/{split}/{backbone}/{pretrain}/seed{seed}/metrics.json",
    log:
        "results/logs/pretrain/{dataset}/{split}/{backbone}/{pretrain}/seed{seed}.log",
    priority: 3  # see train_stage1
    retries: TRAIN_RETRIES
    conda:
        "../../envs/train.yaml"
    threads: 1
    resources:
        gpu=1,
        runtime=60,
        # auto: the GPU if there is one (the CPU demo); the SLURM profile sets cuda: stop if none
        device="auto",
    params:
        code=pretrain_code,
        backbone=backbone_json,
        method=pretraining_json("method"),
        schedule=pretraining_json("schedule"),
        work="results/work/pretrain/{dataset}/{split}/{backbone}/{pretrain}/seed{seed}",
    shell:
        "torchrun --standalone --nproc-per-node={resources.gpu:q} -m maskclr.pretrain"
        " --dataset {wildcards.dataset:q} --split {wildcards.split:q} --pretrain-name {wildcards.pretrain:q}"
        " --data {input.data:q} --backbone {wildcards.backbone:q}"
        " --backbone-json {params.backbone:q} --method-json {params.method:q}"
        " --schedule-json {params.schedule:q} --seed {wildcards.seed:q} --work-dir {params.work:q}"
        " --out {output.model:q} --out-metrics {output.metrics:q} --threads {threads:q}"
        " --device {resources.device:q} --time-budget-min {resources.runtime:q} 2> {log:q}"
