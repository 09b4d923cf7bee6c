"""What runs the model: the Engine protocol (base.py), the factory that builds an engine from a
run's settings, checkpoint resolution (hub id, local folder, the tiny random model), and the two
engines, each a package of its own: inprocess/ (transformers in this process: batching,
constrained decoding, memory model) and served/ (OpenAI-compatible servers: vLLM and its launcher)."""
