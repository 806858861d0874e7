#!/bin/bash
# A Megatron-LM launch of about 1,000,000 iterations (1,024,000,000 samples) with a batch-size ramp
# and a WSD tail: benchmarks/run.py times the reader, the simulation and `sched export` of it.
torchrun pretrain_gpt.py \
    --train-samples 1024000000 --global-batch-size 1024 --micro-batch-size 4 \
    --rampup-batch-size 128 128 20000000 \
    --lr 3e-4 --min-lr 3e-5 --lr-warmup-samples 2048000 \
    --lr-decay-style WSD --lr-wsd-decay-style cosine --lr-wsd-decay-samples 102400000 \
    --seq-length 4096
