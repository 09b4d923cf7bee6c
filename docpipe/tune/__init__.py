"""Learning from corrections: the reviewed documents of an output folder as training examples
(the exact request docpipe sends, and the answer a reviewer approved), the adapter's manifest,
and the checks that an adapter fits the run that uses it. The training itself (torch, peft) is
the in-process engine's: docpipe/engines/inprocess/lora.py."""
