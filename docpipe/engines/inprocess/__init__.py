"""The in-process engine: Gemma 4 through transformers in this process (CPU, one GPU, the tests),
with static or continuous batching, constrained decoding and per-token confidence."""
