"""What a run asks of each document, as a value: extraction, transcription or sorting (classify,
then extract; --split: packets into documents). Each task has its prompt, its requests, how its
answers are read, its rows and tables, and its part of the work key (run/tasks/base.py)."""
