"""Many runs take over the claims of a dead run at once: every document goes to exactly one of them.

A take-over is a compare-and-swap: a run that saw the dead holder must not replace a claim another
run has meanwhile taken over. The race is widened here by a pause between reading who holds a
claim and acting on it, in every racing process."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from collections import Counter
from pathlib import Path

import pytest

from docpipe.output import claims
from docpipe.output.lease import Lease

KEYS = [f"key{i:03d}" for i in range(60)]
RUNS = 6


def _dead_run_holds(out: Path) -> None:
    with Lease(out, "dead-run", seconds=30):
        for key in KEYS:
            assert claims.try_claim(out, key, "dead-run") is None
    # the lease ended without releasing the claims: the run died


def _race(out: Path, run_id: str, start: float, results: Path, finished) -> None:
    read_lease = claims.read_lease
    chance = random.Random(run_id)  # its own generator: the global `random` state is not this test's

    def slow_read_lease(out_, holder):  # widen the window between the look and the take-over
        time.sleep(chance.uniform(0, 0.004))
        return read_lease(out_, holder)

    claims.read_lease = slow_read_lease
    keys = chance.sample(KEYS, len(KEYS))
    with Lease(out, run_id, seconds=30):
        time.sleep(max(0.0, start - time.time()))
        mine = [key for key in keys if claims.try_claim(out, key, run_id) is None]
        results.write_text(json.dumps(mine))
        finished.wait(60)  # every run stays live until all have claimed (an ended run's claims are free)


@pytest.mark.slow
@pytest.mark.processes
def test_runs_racing_over_a_dead_runs_claims_each_take_a_document_exactly_once(tmp_path):
    out = tmp_path / "out"
    _dead_run_holds(out)
    context = multiprocessing.get_context("fork")
    start, finished = time.time() + 1.0, context.Barrier(RUNS)  # all at once
    processes = [context.Process(target=_race, args=(out, f"run-{i}", start, tmp_path / f"run-{i}.json", finished))
                 for i in range(RUNS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    taken = Counter(key for i in range(RUNS) for key in json.loads((tmp_path / f"run-{i}.json").read_text()))
    assert sorted(taken) == KEYS, set(KEYS) - set(taken)  # every document taken over ...
    assert max(taken.values()) == 1, {k: n for k, n in taken.items() if n > 1}  # ... by exactly one run
    for key in KEYS:  # and the claim names its one holder (the runs ended: it is theirs, not live)
        holders = [i for i in range(RUNS) if key in json.loads((tmp_path / f"run-{i}.json").read_text())]
        assert claims.holder(out, key) == f"run-{holders[0]}"
