"""The served engine: requests to OpenAI-compatible servers (vLLM, started by `docpipe serve-model`),
many in flight per server; and the launcher of those servers. It needs neither torch nor
transformers in docpipe's process."""
