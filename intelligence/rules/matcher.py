"""Turns a Russian text into negation-marked lemma keys and scores them against the lexicon."""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from intelligence.rules.lexicon import (
    CUES,
    FLAW_HIDERS,
    FLAWS,
    LEMMA_OVERRIDES,
    NEGATED_BY_TRAILING_NET,
    NEGATED_BY_TRAILING_VERB,
    NEGATION_PASS_THROUGH,
    NEGATORS,
    NOMINAL_NEGATORS,
    NOT_SYMPTOMS,
    REMEDIES,
    REMEDY_GAP,
    REMEDY_PREPOSITIONS,
    TRAILING_NEGATORS,
)
from intelligence.rules.morph import fold, is_adjective, is_comparative, is_noun, lemma

Weights = tuple[tuple[str, float], ...]

_TOKEN_RE = re.compile(r"[а-яa-z0-9]+(?:-[а-яa-z]+)*|[.!?;:()\n]")
BOUNDARY = "|"
NEGATED = "!"
TAIL = "tail:"


def _build_index() -> tuple[
    dict[str, list[str]],
    tuple[tuple[str, str], ...],
    dict[str, list[Weights]],
    dict[str, list[tuple[tuple[str, ...], Weights]]],
]:
    exact: dict[str, list[str]] = defaultdict(list)
    prefixes: set[tuple[str, str]] = set()
    unigrams: dict[str, list[Weights]] = defaultdict(list)
    ngrams: dict[str, list[tuple[tuple[str, ...], Weights]]] = defaultdict(list)
    for pattern, weights in CUES:
        atoms = tuple(fold(part) for part in pattern.split())
        for atom in atoms:
            if atom.endswith("*"):
                prefixes.add((atom, atom[:-1]))
            else:
                exact[atom].append(atom)
        if len(atoms) == 1:
            unigrams[atoms[0]].append(weights)
        else:
            ngrams[atoms[0]].append((atoms[1:], weights))
    return dict(exact), tuple(sorted(prefixes)), dict(unigrams), dict(ngrams)


_EXACT, _PREFIXES, _UNIGRAMS, _NGRAMS = _build_index()


@lru_cache(maxsize=100_000)
def atoms_of(key: str) -> frozenset[str]:
    """Lexicon atoms (``word``, ``stem*``, ``!word``…) that a marked lemma key satisfies."""
    found = set(_EXACT.get(key, ()))
    if is_comparative(key.removeprefix(NEGATED)):
        # "Ожидала вкуснее" is no praise: a comparative matches exact cues only.
        return frozenset(found)
    for atom, prefix in _PREFIXES:
        if key.startswith(prefix):
            found.add(atom)
    return frozenset(found)


@lru_cache(maxsize=200_000)
def _lemma_of(word: str) -> str:
    return LEMMA_OVERRIDES.get(word) or lemma(word)


def keys_of(text: str) -> list[str]:
    """Lemma keys; a negated token is prefixed with ``!``, punctuation becomes ``|``."""
    keys: list[str] = []
    pending = False
    nominal = False
    # Index of an issue noun just before a negator: "брака не обнаружено" negates it.
    issue_at = -1
    # Tokens left in the noun phrase after a remedy ("снимает покраснения") or a flaw
    # hider ("скрывает недостатки"); after a preposition ("от зуда") only nouns count.
    remedy = 0
    after_preposition = False
    hides_flaws = False
    for token in _TOKEN_RE.findall(fold(text)):
        if not token[0].isalnum():
            pending = False
            issue_at = -1
            remedy = 0
            if keys and keys[-1] != BOUNDARY:
                keys.append(BOUNDARY)
            continue
        base = _lemma_of(token)
        if remedy:
            remedy -= 1
            treated = base in FLAWS if hides_flaws else _is_symptom(base)
            if treated and (not after_preposition or is_noun(token)):
                # The symptom the item treats, the flaw it hides: no harm done, no
                # shortcoming ("избавил от зуда", "скрывает недостатки фигуры").
                keys.append(NEGATED + base)
                pending = False
                continue
            if not (
                base in REMEDY_GAP or is_adjective(token) or (is_noun(token) and is_complaint(base))
            ):
                remedy = 0
        if base in REMEDIES or base in REMEDY_PREPOSITIONS or base in FLAW_HIDERS:
            remedy = _REMEDY_SPAN
            after_preposition = base in REMEDY_PREPOSITIONS
            hides_flaws = base in FLAW_HIDERS
        if base in NEGATORS:
            issue_at = _trailing_issue(keys)
            if base in TRAILING_NEGATORS and issue_at >= 0:
                # "Проблем нет, рекомендую", "нареканий никаких": the negator closes the
                # phrase before it and negates nothing after it.
                keys[issue_at] = NEGATED + keys[issue_at]
                issue_at = -1
                keys.append(base)
                pending = False
                continue
            keys.append(base)
            pending = True
            nominal = base in NOMINAL_NEGATORS
            continue
        if pending:
            if issue_at >= 0 and base in NEGATED_BY_TRAILING_VERB:
                # "Претензий не имею", "недостатков не обнаружено", "проблем не было".
                keys[issue_at] = NEGATED + keys[issue_at]
            issue_at = -1
            keys.append(NEGATED + base)
            # "Без посторонних привкусов", "никакого резкого запаха": a noun's negation
            # reaches over its adjectives to the noun itself.
            pending = base in NEGATION_PASS_THROUGH or (nominal and is_adjective(token))
        else:
            keys.append(base)
    return keys


_REMEDY_SPAN = 4
_SYMPTOMS: frozenset[str] = frozenset(
    atom
    for pattern, weights in CUES
    if any(label == "health" for label, _ in weights)
    for atom in (fold(part) for part in pattern.split())
    if atom not in NOT_SYMPTOMS
)


@lru_cache(maxsize=100_000)
def _is_symptom(key: str) -> bool:
    """Whether a lemma names a symptom (a health cue: "зуд", "воспаление", "болеть")."""
    return not _SYMPTOMS.isdisjoint(atoms_of(key))


# Words that may stand between an issue noun and its negation: "запаха совсем нет",
# "аллергии у меня не вызвал".
_ISSUE_GAP = frozenset(
    {"совсем", "вообще", "практически", "почти", "особо", "абсолютно", "у", "я", "мы", "пока"}
)
_ISSUE_GAP_MAX = 2


def _trailing_issue(keys: list[str]) -> int:
    """Index of an issue noun that a negator coming next would deny, else -1."""
    at = len(keys) - 1
    while at >= 0 and len(keys) - 1 - at < _ISSUE_GAP_MAX and keys[at] in _ISSUE_GAP:
        at -= 1
    return at if at >= 0 and keys[at] in NEGATED_BY_TRAILING_NET else -1


def score(keys: list[str]) -> dict[str, float]:
    """Sum of label weights of every cue found in ``keys``."""
    totals: dict[str, float] = defaultdict(float)
    atom_rows = [atoms_of(key) for key in keys]
    size = len(atom_rows)
    # After "но", "а вот", "только" shoppers state the reason they are unhappy, so
    # complaints there weigh more and praise less.
    scale = _PLAIN
    for i, atoms in enumerate(atom_rows):
        check = scale is _SHIFTED and keys[i][0] == NEGATED
        before = totals.get("pos", 0.0) if check else 0.0
        boost = INTENSITY if i and keys[i - 1].removeprefix(NEGATED) in INTENSIFIERS else 1.0
        for atom in atoms:
            for weights in _UNIGRAMS.get(atom, ()):
                if boost != 1.0:
                    weights = tuple(
                        (label, w * boost if label in ("pos", "neg") else w) for label, w in weights
                    )
                scale = _add(totals, weights, scale)
            for rest, weights in _NGRAMS.get(atom, ()):
                if _follows(atom_rows, size, i, rest):
                    scale = _add(totals, weights, scale)
        if check and totals.get("pos", 0.0) == before:
            # "…, но не разглаживает": a negated word after the contrast is a shortcoming.
            totals["tail:negation"] += 1.0
        if not atoms and keys[i][0] == NEGATED and is_complaint(keys[i][1:]):
            # "Не линяет", "без горечи": a denied complaint is mild praise.
            totals["pos"] += DENIED_COMPLAINT_POS
    return totals


DENIED_COMPLAINT_POS = 0.5
# "Очень вкусно", "совсем не работает": an intensifier strengthens the verdict after it.
INTENSIFIERS = frozenset(
    {
        "очень",
        "сильно",
        "совсем",
        "абсолютно",
        "совершенно",
        "ужасно",
        "безумно",
        "крайне",
        "вообще",
        "просто",
        "супер",
    }
)
INTENSITY = 1.3


@lru_cache(maxsize=100_000)
def is_complaint(key: str) -> bool:
    """Whether a plain lemma key carries negative weight on its own."""
    for atom in atoms_of(key):
        for weights in _UNIGRAMS.get(atom, ()):
            if any(label == "neg" and weight > 0 for label, weight in weights):
                return True
    return False


_PLAIN: dict[str, float] = {}
_SHIFTED: dict[str, float] = {"neg": 1.4, "pos": 0.75}
_OVERALL: dict[str, float] = {"pos": 1.5, "neg": 1.2}


def _add(totals: dict[str, float], weights: Weights, scale: dict[str, float]) -> dict[str, float]:
    shifted = scale is _SHIFTED
    for label, weight in weights:
        if label == "shift":
            scale = _SHIFTED
        elif label == "overall":
            # "В целом", "в остальном", "а так": the verdict that follows sums the text up.
            scale = _OVERALL
            shifted = False
        totals[label] += weight * scale.get(label, 1.0)
        if shifted:
            # What follows the contrast marker, kept apart: the reason for a lost star.
            totals[_TAIL_OF.get(label) or _tail_label(label)] += weight
    return scale


_TAIL_OF: dict[str, str] = {}


def _tail_label(label: str) -> str:
    _TAIL_OF[label] = TAIL + label
    return _TAIL_OF[label]


def _follows(rows: list[frozenset[str]], size: int, i: int, rest: tuple[str, ...]) -> bool:
    # Each further atom sits on the next token, or one token later.
    position = i
    for atom in rest:
        if position + 1 < size and atom in rows[position + 1]:
            position += 1
        elif position + 2 < size and atom in rows[position + 2]:
            position += 2
        else:
            return False
    return True
