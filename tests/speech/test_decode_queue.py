"""The recogniser's decode queue: batches, callers before voicemail, cancelled jobs, close."""

from __future__ import annotations

import threading

import pytest

from ari_app.asr.decode_queue import BULK, FINAL, SPECULATIVE, DecodeJob, DecodeQueue


def queue() -> DecodeQueue[str, str]:
    return DecodeQueue(lambda: RuntimeError("closed"))


def pieces(jobs: list[DecodeJob[str, str]] | None) -> list[list[str]]:
    assert jobs is not None
    return [job.pieces for job in jobs]


def test_a_free_worker_takes_every_waiting_job_up_to_the_batch_size() -> None:
    q = queue()
    for name in ("a", "b", "c", "d"):
        q.put([name])
    assert pieces(q.take(3)) == [["a"], ["b"], ["c"]]
    assert pieces(q.take(3)) == [["d"]]


def test_waiting_counts_jobs_not_yet_taken() -> None:
    q = queue()
    assert q.waiting() == 0
    q.put(["a"])
    q.put(["b"])
    assert q.waiting() == 2
    q.take(1)
    assert q.waiting() == 1


def test_a_long_job_is_taken_whole_even_past_the_batch_size() -> None:
    q = queue()
    q.put(["a1", "a2", "a3"])
    q.put(["b"])
    assert pieces(q.take(2)) == [["a1", "a2", "a3"]]
    assert pieces(q.take(2)) == [["b"]]


def test_ended_turns_go_before_speculations_and_those_before_voicemail() -> None:
    q = queue()
    q.put(["voicemail"], priority=BULK)
    q.put(["early 1"], priority=SPECULATIVE)
    q.put(["turn 1"])
    q.put(["early 2"], priority=SPECULATIVE)
    q.put(["turn 2"], priority=FINAL)
    assert pieces(q.take(2)) == [["turn 1"], ["turn 2"]]
    assert pieces(q.take(2)) == [["early 1"], ["early 2"]]
    assert pieces(q.take(2)) == [["voicemail"]]


def test_cancelled_jobs_are_dropped_and_taken_ones_are_running() -> None:
    q = queue()
    gone = q.put(["gone"])
    kept = q.put(["kept"])
    assert gone.cancel()
    jobs = q.take(4)
    assert pieces(jobs) == [["kept"]]
    assert kept.running()
    assert not kept.cancel()  # a running decode can no longer be cancelled


def test_close_lets_queued_jobs_finish_then_stops_every_worker() -> None:
    q = queue()
    q.put(["last"])
    q.close(workers=2)
    assert pieces(q.take(4)) == [["last"]]
    assert q.take(4) is None
    assert q.take(4) is None
    late = q.put(["late"])
    with pytest.raises(RuntimeError, match="closed"):
        late.result(timeout=0)


def test_a_worker_blocks_until_a_job_comes() -> None:
    q = queue()
    taken: list[list[list[str]]] = []
    worker = threading.Thread(target=lambda: taken.append(pieces(q.take(4))))
    worker.start()
    q.put(["x"])
    worker.join(timeout=10)
    assert taken == [[["x"]]]
