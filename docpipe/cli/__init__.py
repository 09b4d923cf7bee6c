"""The `docpipe` command (app.py), its options generated from the run settings, the progress bar
and the summary tables."""
