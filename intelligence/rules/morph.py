"""Tokenising and lemmatising Russian text for the rules engine.

The MorphAnalyzer is built once per process (it loads ~15 MB of dictionaries) and
every lemma lookup is memoised, so a warm process handles a word in well under a
microsecond.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pymorphy3

_WORD_RE = re.compile(r"[а-яёa-z0-9]+(?:-[а-яёa-z]+)*", re.IGNORECASE)


@lru_cache(maxsize=1)
def morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def fold(text: str) -> str:
    """Lower-case and fold ё into е, the way shoppers type."""
    return text.lower().replace("ё", "е")


def words(text: str) -> list[str]:
    """Folded word tokens of ``text``."""
    return _WORD_RE.findall(fold(text))


@lru_cache(maxsize=200_000)
def _analysis(word: str) -> tuple[str, str]:
    """(lemma, part of speech) from one dictionary parse.

    A comparative ("лучше", "хуже", "дороже") keeps its own form as its lemma: "могло быть
    и лучше" is a complaint, so it must not count as the praise word "хороший".
    """
    if not word or not ("а" <= word[0] <= "я"):
        return word, ""
    parse = morph().parse(word)[0]
    if "COMP" in parse.tag:
        return word, "COMP"
    return fold(parse.normal_form), str(parse.tag.POS or "")


def lemma(word: str) -> str:
    """Normal form of a folded word; digits and Latin words are kept as they are."""
    return _analysis(word)[0]


def is_comparative(word: str) -> bool:
    """Whether a folded word is a comparative ("вкуснее", "лучше", "дороже")."""
    return _analysis(word)[1] == "COMP"


def is_adjective(word: str) -> bool:
    """Whether a folded word is most likely a full adjective or participle ("посторонних")."""
    return _analysis(word)[1] in ("ADJF", "PRTF")


def is_noun(word: str) -> bool:
    """Whether a folded word is most likely a noun."""
    return _analysis(word)[1] == "NOUN"
