"""Files in, page images out: discover (what is there, by content), render (each page at the size
Gemma 4's processor keeps for the budget), render_pool (in worker processes, under limits),
passwords (for encrypted PDFs)."""
