"""Normalising transcripts and steering misheard words to the knowledge base's words."""

from __future__ import annotations

from ari_app.answer.embedder import english_words
from ari_app.answer.speller import Speller
from ari_app.answer.text import content_tokens, edit_distance, normalize, sound_key, stem

VOCAB = [
    "cigna",
    "dental",
    "saturday",
    "metlife",
    "wheelchair",
    "appointment",
    "parking",
    "night",
    "filling",
    "hours",
    "whitening",
    "sedation",
]


def test_normalize_drops_fillers_punctuation_and_apostrophes() -> None:
    assert normalize("Um, what's your ADDRESS?  Uh...") == "whats your address"


def test_stem_keeps_derived_words_apart() -> None:
    assert stem("cancelling") == "cancel"
    assert stem("appointments") == "appointment"
    assert stem("cancellation") == "cancellation"
    assert stem("glasses") == "glass"


def test_content_tokens_drop_stopwords() -> None:
    assert content_tokens("Can I park my car there?") == ["park", "car"]


def test_sound_key_joins_homophones() -> None:
    assert sound_key("signa") == sound_key("cigna")
    assert sound_key("dentil") == sound_key("dental")
    assert sound_key("clothes") == sound_key("close")
    assert sound_key("parking") != sound_key("barking")


def test_edit_distance() -> None:
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("same", "same") == 0
    assert edit_distance("a", "abcdefgh", limit=2) == 3


def test_speller_fixes_asr_homophones_and_splits() -> None:
    speller = Speller(VOCAB, english_words())
    assert speller.correct("do you take signa") == "do you take cigna"
    assert speller.correct("is this the dentil office") == "is this the dental office"
    assert speller.correct("are you open sat today") == "are you open saturday"
    assert speller.correct("I have met life") == "i have metlife"
    assert speller.correct("is there wheel chair access") == "is there wheelchair access"
    assert speller.correct("i need to make a point meant") == "i need to make appointment"


def test_speller_leaves_real_words_alone() -> None:
    speller = Speller(VOCAB, english_words())
    assert speller.correct("are you open right now") == "are you open right now"
    assert speller.correct("how much is a feeling") == "how much is a feeling"


def test_sound_alikes_offer_a_second_reading_for_real_words() -> None:
    speller = Speller(VOCAB, english_words())
    assert "filling" in speller.sound_alikes("feeling")
    assert "hours" in speller.sound_alikes("ours")
    assert speller.sound_alikes("parking") == []
    assert "sedation" in speller.joined_alikes("say", "nation")
