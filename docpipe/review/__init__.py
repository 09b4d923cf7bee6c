"""`docpipe review`: the review page, its queue, and what a reviewer's actions become."""
