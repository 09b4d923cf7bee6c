"""One run in plain Python (no Prefect): its settings and work key (config), the budget policy,
the stages composed chunk by chunk (pipeline), and revalidation without a model."""
