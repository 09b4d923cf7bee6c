"""What runs the model: the Engine protocol (base.py), the in-process transformers engine with
its constrained decoding, batch planner and memory model, checkpoint resolution, and the factory
that builds an engine from a run's settings."""
