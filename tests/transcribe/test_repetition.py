"""A transcript that loops is cut after the loop's first occurrence; ordinary repetition is not."""

from __future__ import annotations

import torch

from docpipe.engines.inprocess.repetition_stop import RepetitionStop, repeating_tail
from docpipe.transcribe.repetition import cut_repetition


def test_a_line_written_over_and_over_is_cut_to_one():
    head = "# Invoice 42\n\n| item | amount |\n|---|---|\n| Anvil | 12.00 |\n"
    loop = "| Rocket skates, size 9 | 349.00 |\n" * 40
    cut = cut_repetition(head + loop)
    assert cut is not None and cut.repeats >= 39
    assert cut.text.startswith(head)
    assert cut.text.count("Rocket skates") == 1


def test_a_loop_inside_one_line_is_cut_too():
    cut = cut_repetition("Total: 12.00 EUR " + "ha" * 200)
    assert cut is not None and cut.text.startswith("Total: 12.00 EUR")
    assert len(cut.text) < 40


def test_ordinary_repetition_is_kept():
    page = "\n".join([
        "| a | b |", "|---|---|", *(f"| item {i} | {i}.00 |" for i in range(30)),
        "Signature: ..........................", "-" * 60,
    ])
    assert cut_repetition(page) is None
    assert cut_repetition("") is None
    assert cut_repetition("ok ok ok ok") is None  # too short to be a runaway loop


def test_token_loops_are_seen_while_generating():
    assert repeating_tail([5, 6, 7] + [1, 2, 3, 4] * 20)
    assert not repeating_tail(list(range(200)))
    assert not repeating_tail([1, 2, 3, 4] * 5)  # 20 tokens: too short to stop on

    prompt = torch.arange(100, 130).unsqueeze(0).repeat(2, 1)
    written = torch.tensor([[9, 8] * 40, list(range(80))])
    stop = RepetitionStop([True, True], prompt_length=prompt.shape[1], every=16)
    done = stop(torch.cat([prompt, written], dim=1))
    assert done.tolist() == [True, False] and stop.stopped_at == [80, None]
    constrained = RepetitionStop([False, True], prompt_length=prompt.shape[1], every=16)
    assert constrained(torch.cat([prompt, written], dim=1)).tolist() == [False, False]
