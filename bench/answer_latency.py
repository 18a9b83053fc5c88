"""Benchmark: how long the answer engine takes to analyse one caller question.

Loads the model and the sample line once, then analyses every question of the evaluation
set ROUNDS times (after a warm-up round) and reports latency percentiles for the whole
analysis (speller, intents, embedding, ranking, hours answer) and for the embedding alone,
plus the model load time and the process's peak memory.
Usage: ``.venv/bin/python -m bench.answer_latency [--rounds 3] [-c config] [--line main]``
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from ari_app.answer.embedder import get_embedder
from ari_app.answer.engine import AnswerEngine, Verdict
from ari_app.answer.evaluation import default_set_path, load_eval_set
from ari_app.bench.stats import percentile
from ari_app.config import load_config


def describe(name: str, values_s: list[float]) -> str:
    """One result line in milliseconds."""
    ms = [v * 1000 for v in values_s]
    return (
        f"{name:<34} n={len(ms):5d}  p50 {statistics.median(ms):6.2f}  "
        f"p95 {percentile(ms, 95) or 0:6.2f}  p99 {percentile(ms, 99) or 0:6.2f}  "
        f"max {max(ms):7.2f} ms"
    )


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-c", "--config", type=Path, default=Path("config"))
    parser.add_argument("--line", default="main")
    args = parser.parse_args()

    t0 = time.perf_counter()
    embedder = get_embedder()
    load_s = time.perf_counter() - t0
    config = load_config(args.config)
    t0 = time.perf_counter()
    engine = AnswerEngine.for_line(config, args.line, embedder=embedder)
    build_s = time.perf_counter() - t0
    eval_set = load_eval_set(default_set_path())
    questions = [c.question for c in eval_set.cases]

    for q in questions:  # warm-up
        engine.analyse(q, eval_set.at)
    whole: list[float] = []
    looked_up: list[float] = []
    embed_only: list[float] = []
    for _ in range(args.rounds):
        for q in questions:
            start = time.perf_counter()
            analysis = engine.analyse(q, eval_set.at)
            elapsed = time.perf_counter() - start
            whole.append(elapsed)
            if analysis.verdict is not Verdict.INTENT:
                looked_up.append(elapsed)
            start = time.perf_counter()
            embedder.encode_one(analysis.corrected or q)
            embed_only.append(time.perf_counter() - start)

    print(f"model load (first get_embedder, backend {embedder.backend_name}): {load_s:.2f} s")
    print(
        f"engine build (load KB, encode {sum(len(e.questions) for e in engine.kb.entries)} "
        f"questions): {build_s:.2f} s"
    )
    print(describe("analyse, every question", whole))
    print(describe("analyse, questions looked up", looked_up))
    print(describe("embedding one question", embed_only))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
