"""Page transcription (`docpipe run --task transcribe`): the prompt (prompt.py), the cut of
runaway repetition (repetition.py), quality signals (quality.py), and a model answer turned into
a Transcript (transcript.py)."""
