"""One run in plain Python (no Prefect): its settings and work key (config), the budget policy,
the stages composed chunk by chunk (pipeline), the protocol that lets many runs share an output
folder (protocol: lease, recovery, shards, claims, the chunk loop), and revalidation without a
model."""
