"""Text normalisation, sentence splitting, pronunciations and word error rate."""

from __future__ import annotations

import pytest

from ari_app.asr.lexicon import ipa_to_arpabet, pronounce
from ari_app.asr.text import normalise, number_words, ordinal_words, split_sentences
from ari_app.asr.wer import corpus_wer, word_errors


@pytest.mark.parametrize(
    ("text", "spoken"),
    [
        (
            "Press 1 to accept this call, or 2 to reject it",
            "press one to accept this call or two to reject it",
        ),
        ("I'm sorry, that's not valid!", "i'm sorry that's not valid"),
        ("Exam and cleaning: $180.", "exam and cleaning one hundred eighty dollars"),
        ("Open 8:00 to 12:30 and 1:05", "open eight to twelve thirty and one oh five"),
        ("Call 617 555 0199 now", "call six one seven five five five zero one nine nine now"),
        ("at 617, 555, 0199.", "at six one seven five five five zero one nine nine"),
        ("at 617-55-55.", "at six one seven five five five five"),
        ("rooms 3, 4, 5 and 9-5", "rooms three four five and nine five"),
        ("Closed on the 4th of July", "closed on the fourth of july"),
        ("24 hours' notice", "twenty four hours notice"),
        ("Plans over $1,500", "plans over one thousand five hundred dollars"),
        ("Wi-Fi & X-rays", "wi fi and x rays"),
    ],
)
def test_normalise(text: str, spoken: str) -> None:
    assert normalise(text) == spoken


def test_numbers() -> None:
    assert number_words(0) == "zero"
    assert number_words(115) == "one hundred fifteen"
    assert number_words(20026) == "twenty thousand twenty six"
    assert ordinal_words(21) == "twenty first"
    assert ordinal_words(12) == "twelfth"
    assert ordinal_words(40) == "fortieth"
    with pytest.raises(ValueError, match="out of range"):
        number_words(-1)


def test_split_sentences_handles_markdown() -> None:
    text = "# Hours\nWe open at 8. We close at 6!\n\n- Is there parking?\n- Yes.\nMore text\n"
    assert split_sentences(text) == [
        "Hours",
        "We open at 8.",
        "We close at 6!",
        "Is there parking?",
        "Yes.",
        "More text",
    ]


def test_pronunciations() -> None:
    assert pronounce("tooth") == ("T UW TH",)
    assert pronounce("carecredit") == ("K EH R K R EH D AH T",)  # a compound of known words
    assert ipa_to_arpabet("wˈaɪfaɪ") == "W AY F AY"
    assert ipa_to_arpabet("tʃˈɜːtʃ") == "CH ER CH"
    zork = pronounce("zorblaxian")  # espeak-ng fills in what the dictionary lacks
    assert zork
    assert zork[0].startswith("Z ")


def test_word_error_rate() -> None:
    assert word_errors("Press 1 now", "press one now") == (0, 3)
    assert word_errors("a b c d", "a x c") == (2, 4)
    assert word_errors("a b", "a b c d") == (2, 2)
    score = corpus_wer([("a b c d", "a b c d"), ("e f", "")])
    assert (score.errors, score.words) == (2, 6)
    assert score.wer == pytest.approx(1 / 3)
    assert corpus_wer([]).wer == 0.0
