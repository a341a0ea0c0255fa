"""Guardrails for seller replies: the rules are data, evaluated by one small engine.

Each ``Rule`` names a category, what it matches, how severe a match is in each channel, and
what to tell the operator. Matching runs on normalised views of the reply that keep a map
back to the original characters, so every finding points at the text the operator typed:

* zero-width characters are dropped, case is folded, ё becomes е;
* Latin look-alike letters are read as Cyrillic for Russian patterns ("cyp" -> "сур") and
  Cyrillic look-alikes as Latin for Latin patterns ("оzоn" -> "ozon");
* letters spaced out to dodge filters ("б е с п л а т н о", "w.w.w") are joined back;
* Russian patterns are stems (``гарантир*``), so any inflection matches.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Final

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MARKETPLACES: tuple[str, ...] = ("wb", "ozon")
CHANNELS: tuple[str, ...] = ("review", "question", "chat")


class Severity(StrEnum):
    OK = "ok"
    WARN = "warn"
    BLOCK = "block"


class Category(StrEnum):
    AI_SELF_REFERENCE = "ai_self_reference"
    PROMISE = "promise"
    BLAME = "blame"
    DISMISSIVE = "dismissive"
    LEGAL = "legal"
    JARGON = "jargon"
    LINK = "link"
    PHONE = "phone"
    EMAIL = "email"
    OTHER_MARKETPLACE = "other_marketplace"
    PROFANITY = "profanity"
    PLACEHOLDER = "placeholder"
    LENGTH = "length"
    EMPTY = "empty"
    STOP_WORD = "stop_word"


class View(StrEnum):
    """Which normalised form of the reply a pattern is matched against."""

    CYRILLIC = "cyrillic"  # look-alikes read as Cyrillic: Russian words
    LATIN = "latin"  # look-alikes read as Latin: URLs, e-mails, Latin brand names
    RAW = "raw"  # original text: placeholders, digits


_ORDER = {Severity.OK: 0, Severity.WARN: 1, Severity.BLOCK: 2}

# Severity per channel: a chat is a private conversation, so some categories only warn there.
# Shared by the rules on sending the customer elsewhere (one per marketplace scope).
ELSEWHERE_EXPLANATION = _(
    "The reply sends the customer elsewhere: another marketplace, an outside shop, "
    "a messenger or a social network."
)
ELSEWHERE_SUGGESTION = _("Keep the customer on this marketplace; do not name other shops.")

STRICT: Mapping[str, Severity] = MappingProxyType(
    {"review": Severity.BLOCK, "question": Severity.BLOCK, "chat": Severity.BLOCK}
)
SOFT_IN_CHAT: Mapping[str, Severity] = MappingProxyType(
    {"review": Severity.BLOCK, "question": Severity.BLOCK, "chat": Severity.WARN}
)
WARN_ONLY: Mapping[str, Severity] = MappingProxyType(
    {"review": Severity.WARN, "question": Severity.WARN, "chat": Severity.WARN}
)

# Answer length limits (min, max) per marketplace and channel, from shared/specs/README.md.
LENGTH_LIMITS: Mapping[tuple[str, str], tuple[int, int]] = MappingProxyType(
    {
        ("wb", "review"): (2, 5000),
        ("wb", "question"): (2, 5000),
        ("wb", "chat"): (1, 1000),
        ("ozon", "review"): (2, 3000),
        ("ozon", "question"): (2, 3000),
        ("ozon", "chat"): (1, 1000),
    }
)


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    severity: Mapping[str, Severity]
    explanation: Promise
    suggestion: Promise | str = ""
    kind: str = "pattern"  # "pattern", "length" or "empty"
    stems: tuple[str, ...] = ()  # Russian lexemes: words or stems (``*`` = any ending / word)
    latin: tuple[str, ...] = ()  # Latin lexemes, same syntax, read with look-alikes as Latin
    token_regex: str = ""  # a regex one whole Cyrillic token must match (profanity roots)
    regexes: tuple[str, ...] = ()  # structural regexes (URLs, phones, placeholders…)
    regex_flags: int = re.IGNORECASE
    view: View = View.LATIN  # the text the regexes read
    trigger: str = ""  # cheap gate for the regexes, see _TRIGGERS
    marketplaces: tuple[str, ...] = MARKETPLACES  # where the rule applies


@dataclass(frozen=True, slots=True)
class Finding:
    category: str
    severity: str
    span: tuple[int, int]
    matched: str
    explanation: str
    suggestion: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "severity": self.severity,
            "span": list(self.span),
            "matched": self.matched,
            "explanation": self.explanation,
            "suggestion": self.suggestion,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    verdict: str
    findings: tuple[Finding, ...]

    @property
    def is_blocked(self) -> bool:
        return self.verdict == Severity.BLOCK

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "findings": [f.to_dict() for f in self.findings]}


RULES: tuple[Rule, ...] = (
    Rule(
        category=Category.AI_SELF_REFERENCE,
        severity=STRICT,
        explanation=_("The reply says or hints that it was written by AI or a bot."),
        suggestion=_("Write as the seller's team, in the first person plural."),
        stems=(
            "бот",
            "бота",
            "боту",
            "ботом",
            "боте",
            "я бот*",
            "я робот*",
            "чат бот*",
            "чатбот*",
            "нейросет*",
            "нейронн* сет*",
            "искусственн* интеллект*",
            "ии",
            "языков* модел*",
            "сгенерирова*",
            "виртуальн* помощник*",
            "автоответ*",
            "автоматическ* ответ*",
            "как бот*",
        ),
        latin=(
            "as an ai",
            "ai model",
            "ai language model",
            "ai",
            "chatgpt",
            "chat gpt",
            "gpt*",
            "llm",
            "openai",
            "bot",
        ),
    ),
    Rule(
        category=Category.PROMISE,
        severity=SOFT_IN_CHAT,
        explanation=_("The reply promises a refund, compensation or a free replacement."),
        suggestion=_("Explain how to file a return through the marketplace instead."),
        stems=(
            "верн* * деньг*",
            "верн* деньг*",
            "верн* денег",
            "верн* * денег",
            "вернем",
            "возврат* денег",
            "возврат* деньг*",
            "возмест*",
            "компенсир*",
            "компенсаци*",
            "гарантир*",
            "бесплатн*",
            "за наш счет",
            "выплат*",
            "перечисл* * деньг*",
            "перечисл* деньг*",
            "обязательно верн*",
            "промокод*",
            "подар* * скидк*",
            "дарим скидк*",
        ),
    ),
    Rule(
        category=Category.BLAME,
        severity=SOFT_IN_CHAT,
        explanation=_("The reply blames the customer."),
        suggestion=_("Describe the correct use neutrally, without saying who is at fault."),
        stems=(
            "сам* виноват*",
            "ваш* вин*",
            "по ваш* вин*",
            "неправильн* использ*",
            "неправильн* эксплуатир*",
            "неправильн* эксплуатаци*",
            "неправильн* стира*",
            "неправильн* хран*",
            "неправильн* нанос*",
            "неправильн* примен*",
            "неправильн* выбра*",
            "неверн* использ*",
            "не соблюда*",
            "не соблюл*",
            "нарушил* правил*",
            "нарушил* инструкци*",
            "не прочита* инструкци*",
            "не читал* инструкци*",
            "надо был* читать",
            "надо был* смотреть",
            "невнимательн* чита*",
            "невнимательн* выбира*",
            "невнимательн* смотре*",
            "ваш* ошибк*",
            "сам* испортил*",
            "сам* сломал*",
        ),
    ),
    Rule(
        category=Category.DISMISSIVE,
        severity=SOFT_IN_CHAT,
        explanation=_("The reply is dismissive towards the customer."),
        suggestion=_("Acknowledge the problem and offer a concrete next step."),
        stems=(
            "ваш* проблем*",
            "ничем не мож* помочь",
            "ничем помочь не мож*",
            "ничем не помож*",
            "не наш* проблем*",
            "нас это не касается",
            "нас не касается",
            "обращайтесь куда хотите",
            "разбирайтесь сам*",
            "претензи* не принима*",
            "не к нам",
            "нам все равно",
            "не наше дело",
            "ничего не поделаешь",
            "сами разбирайтесь",
        ),
    ),
    Rule(
        category=Category.LEGAL,
        severity=SOFT_IN_CHAT,
        explanation=_("The reply mentions courts, authorities or legal action."),
        suggestion=_("Leave legal matters to the legal team; answer the customer's issue."),
        stems=(
            "суд",
            "суда",
            "суде",
            "судом",
            "суду",
            "суды",
            "судебн*",
            "прокуратур*",
            "роспотребнадзор*",
            "иск",
            "иска",
            "иском",
            "иску",
            "исков*",
            "юрист*",
            "адвокат*",
            "полици*",
            "защит* прав потребител*",
            "зозпп",
            "уголовн*",
            "административн* ответственност*",
            "коап",
            "клевет*",
        ),
    ),
    Rule(
        category=Category.JARGON,
        severity=WARN_ONLY,
        explanation=_("The reply uses internal jargon the customer may not understand."),
        suggestion=_("Use plain words: 'order', 'item', 'warehouse'."),
        stems=(
            "артикул* поставщик*",
            "артикул* продавц*",
            "тикет*",
            "баркод*",
            "штрихкод*",
            "эскалаци*",
            "эскалир*",
            "личн* кабинет* продавц*",
            "кабинет* поставщик*",
            "поставк* на склад*",
            "оффер*",
            "фулфилмент*",
        ),
        latin=(
            "sku",
            "fbo",
            "fbs",
            "rfbs",
            "dbs",
            "nm id",
            "nmid",
            "offer id",
            "offerid",
            "barcode",
            "sla",
            "crm",
            "ticket*",
        ),
    ),
    Rule(
        category=Category.LINK,
        severity=STRICT,
        explanation=_("The reply contains a link, a web address or a social-network handle."),
        suggestion=_("Remove it; marketplaces forbid links and outside contacts in replies."),
        regexes=(
            r"\b(?:https?|ftp)\s*:\s*/\s*/\s*\S+",
            r"\bw[\s.]*w[\s.]*w\b(?:\s*\.\s*[a-zа-я0-9-]+)*",
            r"\b[a-z0-9-]{2,}\s*(?:\.|\(?\s*dot\s*\)?|\[\s*dot\s*\]|\s+точка\s+)\s*"
            r"(?:ru|py|com|net|org|рф|su|info|io|me|shop|store|online|site|biz|pro|club|by|kz"
            r"|ly|cc|gl|app|link|tv|xyz)\b",
            r"\b(?:t|wa|vk|ok)\s*\.\s*(?:me|cc|ru)\b",
            # a messenger or social-network handle (an e-mail's "@" has a name before it)
            r"(?<![a-z0-9._%+-])@[a-z0-9_.]{3,}",
            r"\b[a-zа-я0-9-]{2,}\s*(?:\.|\s+точка\s+)\s*(?:рф|ру|ком)\b",
        ),
        trigger="web",
    ),
    Rule(
        category=Category.PHONE,
        severity=STRICT,
        explanation=_("The reply contains a phone number."),
        suggestion=_("Remove the number; keep the conversation on the marketplace."),
        regexes=(
            r"(?<!\d)(?:\+\s*7|8|7)(?:[\s\-().]*\d){10}(?!\d)",
            r"(?<![\d+])9(?:[\s\-().]*\d){9}(?!\d)",
            r"(?<!\d)\d{3}[\s\-]\d{2}[\s\-]\d{2}(?!\d)",
        ),
        view=View.RAW,
        trigger="digits",
    ),
    Rule(
        category=Category.EMAIL,
        severity=STRICT,
        explanation=_("The reply contains an e-mail address."),
        suggestion=_("Remove the address; keep the conversation on the marketplace."),
        regexes=(
            r"[a-z0-9._%+-]+\s*(?:@|\(\s*at\s*\)|\[\s*at\s*\]|\s+at\s+|\s+собака\s+)\s*"
            r"[a-z0-9-]+\s*(?:\.|\(?\s*dot\s*\)?|\s+точка\s+)\s*[a-z]{2,}",
        ),
        trigger="at",
    ),
    Rule(
        category=Category.OTHER_MARKETPLACE,
        severity=SOFT_IN_CHAT,
        explanation=ELSEWHERE_EXPLANATION,
        suggestion=ELSEWHERE_SUGGESTION,
        stems=(
            "яндекс* маркет*",
            "я маркет*",
            "алиэкспресс*",
            "али экспресс*",
            "авито",
            "мегамаркет*",
            "сбермегамаркет*",
            "ламод*",
            "казань экспресс*",
            "казаньэкспресс*",
            "магнит маркет*",
            "наш* магазин*",
            "наш* сайт*",
            "наш* интернет магазин*",
            "инстаграм*",
            "инста",
            "инсте",
            "инсту",
            "инстой",
            "телеграм*",
            "телега",
            "телеги",
            "телеге",
            "телегу",
            "телегой",
            "тг",
            "вконтакт*",
            "вк",
            "ютуб*",
            "тикток*",
            "вотсап*",
            "ватсап*",
            "вайбер*",
            "наш* групп*",
            "наш* канал*",
        ),
        latin=(
            "yandex market*",
            "ali express",
            "aliexpress",
            "avito",
            "megamarket",
            "lamoda",
            "kazanexpress",
            "joom",
            "temu",
            "whats app",
            "whatsapp",
            "telegram",
            "instagram",
            "insta",
            "vk",
            "vkontakte",
            "youtube",
            "tiktok",
            "viber",
        ),
    ),
    Rule(
        category=Category.OTHER_MARKETPLACE,
        severity=SOFT_IN_CHAT,
        explanation=ELSEWHERE_EXPLANATION,
        suggestion=ELSEWHERE_SUGGESTION,
        stems=("озон*",),
        latin=("ozon*",),
        marketplaces=("wb",),
    ),
    Rule(
        category=Category.OTHER_MARKETPLACE,
        severity=SOFT_IN_CHAT,
        explanation=ELSEWHERE_EXPLANATION,
        suggestion=ELSEWHERE_SUGGESTION,
        stems=(
            "вайлдберриз*",
            "валдбер*",
            "вилдбер*",
            "вайлдбер*",
            "вайлбер*",
            "валбер*",
            "вальбер*",
            "вальдбер*",
            "вб",
        ),
        latin=("wildberr*", "wb"),
        marketplaces=("ozon",),
    ),
    Rule(
        category=Category.PROFANITY,
        severity=STRICT,
        explanation=_("The reply contains profanity or an insult."),
        suggestion=_("Remove the offensive word."),
        token_regex=(  # noqa: S106 - a regex, not a password
            r"(?:на|по|за|вы|у|до|от|пере|раз|рас|при|съ|подъ|въ|отъ|объ|из)?"
            r"(?:ху[йеяюи]|пизд|бля|еба|ебу|ебл|ебн|еби|ебо|муда|мудо|мудак|мудил|пидор|пидар"
            r"|залуп|гандон|говн|гавн|дерьм|засран|шлюх|долбо|срат|срал|сран|обосра|насра)[а-я]*"
            r"|сук(?:а|и|е|у|ой|ами)?|жоп[а-я]*"
            r"|(?:на|по|за)?хер(?:а|у|ом|ня|ни|ню|ней|ов[а-я]*)?"
            r"|(?:дебил|идиот|придур|кретин|мраз|тупиц|дура[кч])[а-я]*"
        ),
    ),
    Rule(
        category=Category.PLACEHOLDER,
        severity=STRICT,
        explanation=_("The reply has an unfilled template placeholder."),
        suggestion=_("Replace the placeholder with real text."),
        regexes=(
            r"\{\{[^{}]{0,40}\}\}",
            r"\{[^{}\s]{1,40}\}",
            r"\[[A-ZА-ЯЁ_ ]{2,40}\]",
            r"<[A-Za-zА-Яа-яЁё_]{2,40}>",
            r"%\([a-z_]{1,40}\)s",
            r"(?<![A-Za-z])[XxХх]{3,}(?![A-Za-zА-Яа-я])",
            r"\$[A-Z_]{2,40}\b",
        ),
        regex_flags=0,
        view=View.RAW,
        trigger="template",
    ),
    Rule(
        category=Category.LENGTH,
        severity=STRICT,
        explanation=_("The reply is longer or shorter than the marketplace allows."),
        suggestion=_("Shorten the reply to fit the limit."),
        kind="length",
    ),
    Rule(
        category=Category.EMPTY,
        severity=STRICT,
        explanation=_("The reply is empty."),
        suggestion=_("Write a reply before sending."),
        kind="empty",
    ),
)

STOP_WORD_RULE = Rule(
    category=Category.STOP_WORD,
    severity=STRICT,
    explanation=_("The reply contains a word this workspace has forbidden."),
    suggestion=_("Rephrase without the forbidden word."),
)


# --- normalisation ---------------------------------------------------------------------------

_INVISIBLE_RE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e]")
_LATIN_TO_CYRILLIC = str.maketrans("aoecpxykmthbu", "аоесрхукмтнви")
_CYRILLIC_TO_LATIN = str.maketrans("аоесрхукмтнв", "aoecpxykmthb")
_TOKEN_RE = re.compile(r"[a-zа-я0-9]+")  # on folded text
# A token of folded text: a run of 3+ spaced-out single letters ("б е с п л а т н о", "s.k.y.p.e")
# as one token, else a word.
_SPACED_OR_WORD_RE = re.compile(
    r"(?<![a-zа-я0-9])[a-zа-я](?:[\s.\-_*·,|/\\+]{1,3}[a-zа-я](?![a-zа-я0-9])){2,}"
    r"|[a-zа-я0-9]+"
)
_NOT_LETTER = re.compile(r"[^a-zа-я]")
_CYRILLIC_ONLY = re.compile(r"[а-я0-9]*[а-я][а-я0-9]*")  # a folded token without Latin letters


# A token: (Cyrillic form, Latin form, the lexemes that may start at it). Its offsets are
# found only for the rare text where a lexeme matches.
_Token = tuple[str, str, tuple["_Candidate", ...]]
# Final, so mypy indexes `_Token` by literal position.
_CYR: Final = 0
_LAT: Final = 1
_CANDIDATES: Final = 2


@dataclass(frozen=True, slots=True)
class _Views:
    raw: str  # the text without invisible characters
    folded: str  # raw, lower-cased, ё -> е
    offsets: Sequence[int]  # index in ``raw`` -> index in the original text
    tokens: tuple[_Token, ...]

    @property
    def latin(self) -> str:
        return self.folded.translate(_CYRILLIC_TO_LATIN)


@lru_cache(maxsize=50_000)
def _word(word: str) -> _Token:
    """The word read as Cyrillic and as Latin, and the lexemes that may start at it. A word
    written in Cyrillic letters alone is Russian and has no Latin reading (else "вот" would
    read as "bot", "нет" as "het"). A spaced-out run ("б е с п л а т н о") reads as its
    letters."""
    if not word.isalnum():
        word = _NOT_LETTER.sub("", word)
    if _CYRILLIC_ONLY.fullmatch(word):
        cyrillic, latin = word, ""
    else:
        cyrillic, latin = word.translate(_LATIN_TO_CYRILLIC), word.translate(_CYRILLIC_TO_LATIN)
    found = _CYRILLIC_INDEX.lookup(cyrillic) + _LATIN_INDEX.lookup(latin)
    for index, pattern in _TOKEN_RULES:
        if pattern.fullmatch(cyrillic):
            found.append(_Candidate(index, (), latin=False))
    return cyrillic, latin, tuple(found)


def _normalise(text: str) -> _Views:
    if _INVISIBLE_RE.search(text):
        offsets: Sequence[int] = tuple(
            i for i, ch in enumerate(text) if not _INVISIBLE_RE.match(ch)
        )
        raw = _INVISIBLE_RE.sub("", text)
    else:
        offsets, raw = range(len(text)), text
    folded = raw.lower().replace("ё", "е")
    return _Views(raw, folded, offsets, _tokens(folded))


def _tokens(folded: str) -> tuple[_Token, ...]:
    return tuple(map(_word, _SPACED_OR_WORD_RE.findall(folded)))


# --- compiling rules ---------------------------------------------------------------------------

# A lexeme is a tuple of word patterns: "word" (exact), "stem*" (prefix) or "*" (any word).
Lexeme = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Candidate:
    rule: int  # index in RULES, or -1 for a workspace stop-word
    rest: Lexeme  # word patterns the following tokens must match
    latin: bool  # match ``rest`` against the Latin form of tokens


def _lexeme(text: str) -> Lexeme:
    return tuple(text.lower().replace("ё", "е").split())


def _word_matches(pattern: str, word: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith("*"):
        return word.startswith(pattern[:-1])
    return word == pattern


class _LexiconIndex:
    """First-word index of lexemes: exact words in a dict, stems bucketed by 2 letters."""

    __slots__ = ("exact", "stems")

    def __init__(self) -> None:
        self.exact: dict[str, list[_Candidate]] = {}
        self.stems: dict[str, list[tuple[str, _Candidate]]] = {}

    def add(self, lexeme: Lexeme, candidate: _Candidate) -> None:
        first = lexeme[0]
        if first.endswith("*"):
            stem = first[:-1]
            self.stems.setdefault(stem[:2], []).append((stem, candidate))
        else:
            self.exact.setdefault(first, []).append(candidate)

    def lookup(self, word: str) -> list[_Candidate]:
        found = list(self.exact.get(word, ()))
        for stem, candidate in self.stems.get(word[:2], ()):
            if word.startswith(stem):
                found.append(candidate)
        return found


def _build_indexes() -> tuple[_LexiconIndex, _LexiconIndex]:
    cyrillic, latin = _LexiconIndex(), _LexiconIndex()
    for index, rule in enumerate(RULES):
        for text in rule.stems:
            lexeme = _lexeme(text)
            cyrillic.add(lexeme, _Candidate(index, lexeme[1:], latin=False))
        for text in rule.latin:
            lexeme = _lexeme(text)
            latin.add(lexeme, _Candidate(index, lexeme[1:], latin=True))
    return cyrillic, latin


_CYRILLIC_INDEX, _LATIN_INDEX = _build_indexes()
_TOKEN_RULES: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (index, re.compile(rule.token_regex)) for index, rule in enumerate(RULES) if rule.token_regex
)
_REGEX_RULES: tuple[tuple[int, re.Pattern[str]], ...] = tuple(
    (index, re.compile("|".join(f"(?:{r})" for r in rule.regexes), rule.regex_flags))
    for index, rule in enumerate(RULES)
    if rule.regexes
)


_RU_ENDINGS = (
    "иями",
    "ями",
    "ами",
    "ого",
    "его",
    "ому",
    "ему",
    "ыми",
    "ими",
    "ией",
    "ия",
    "ие",
    "ий",
    "ой",
    "ей",
    "ый",
    "ая",
    "яя",
    "ое",
    "ее",
    "ые",
    "ом",
    "ем",
    "ам",
    "ям",
    "ах",
    "ях",
    "ов",
    "ев",
    "ть",
    "ла",
    "ло",
    "ли",
    "ю",
    "у",
    "а",
    "я",
    "о",
    "е",
    "ы",
    "и",
    "ь",
    "й",
)


def _stop_word_lexeme(phrase: str) -> Lexeme:
    words = _TOKEN_RE.findall(phrase.lower().replace("ё", "е").translate(_LATIN_TO_CYRILLIC))
    stems = []
    for word in words:
        for ending in _RU_ENDINGS:
            if len(word) > 4 and word.endswith(ending) and len(word) - len(ending) >= 3:
                word = word[: -len(ending)] + "*"
                break
        stems.append(word)
    return tuple(stems)


@lru_cache(maxsize=256)
def _stop_word_index(stop_words: tuple[str, ...]) -> _LexiconIndex:
    index = _LexiconIndex()
    for phrase in stop_words:
        lexeme = _stop_word_lexeme(phrase)
        if lexeme:
            index.add(lexeme, _Candidate(-1, lexeme[1:], latin=False))
    return index


# Cheap gates: a structural regex runs only when its trigger shows up in the text.
_HAS_LATIN = re.compile(r"[a-z]")
_CYRILLIC_TLD = re.compile(r"[.\s](?:рф|ру|ком)\b")
_PHONE_HINT = re.compile(r"\d(?:\D{0,4}\d){6}")
_TRIGGERS: Mapping[str, Callable[[_Views], bool]] = MappingProxyType(
    {
        "web": lambda views: (
            _HAS_LATIN.search(views.folded) is not None
            or _CYRILLIC_TLD.search(views.folded) is not None
        ),
        "digits": lambda views: _PHONE_HINT.search(views.raw) is not None,
        "at": lambda views: (
            "@" in views.raw
            or " at " in views.folded
            or "собак" in views.folded
            or "(at)" in views.folded
            or "[at]" in views.folded
        ),
        "template": lambda views: (
            any(ch in views.raw for ch in "{[<%$") or "xxx" in views.folded or "ххх" in views.folded
        ),
    }
)


# --- the engine -------------------------------------------------------------------------------


def _follows(tokens: tuple[_Token, ...], position: int, candidate: _Candidate) -> int | None:
    """Index of the last token of the lexeme starting at ``position``, or None."""
    for pattern in candidate.rest:
        position += 1
        if position >= len(tokens):
            return None
        token = tokens[position]
        if not _word_matches(pattern, token[_LAT] if candidate.latin else token[_CYR]):
            return None
    return position


def _lexeme_spans(views: _Views, stop_index: _LexiconIndex | None) -> list[tuple[int, int, int]]:
    tokens = views.tokens
    hits: list[tuple[int, int, int]] = []  # (rule, first token, last token)
    for position, token in enumerate(tokens):
        candidates = token[_CANDIDATES]
        if stop_index is not None:
            candidates = candidates + tuple(stop_index.lookup(token[_CYR]))
        for candidate in candidates:
            last = _follows(tokens, position, candidate) if candidate.rest else position
            if last is not None:
                hits.append((candidate.rule, position, last))
    if not hits:
        return []
    bounds = [match.span() for match in _SPACED_OR_WORD_RE.finditer(views.folded)]
    return [(rule, bounds[first][0], bounds[last][1]) for rule, first, last in hits]


def _regex_spans(views: _Views) -> list[tuple[int, int, int]]:
    spans: list[tuple[int, int, int]] = []
    latin = ""
    for index, pattern in _REGEX_RULES:
        rule = RULES[index]
        if rule.trigger and not _TRIGGERS[rule.trigger](views):
            continue
        if rule.view == View.RAW:
            haystack = views.raw
        else:
            latin = latin or views.latin
            haystack = latin
        for match in pattern.finditer(haystack):
            if match.end() > match.start():
                spans.append((index, match.start(), match.end()))
    return spans


def _length_spans(text: str, limits: tuple[int, int]) -> list[tuple[int, int]]:
    length = len(text.strip())
    low, high = limits
    if length == 0:
        return []
    if length > high:
        return [(high, len(text))]
    if length < low:
        return [(0, len(text))]
    return []


def _length_explanation(limits: tuple[int, int]) -> str:
    return gettext("The reply must be between %(low)s and %(high)s characters long.") % {
        "low": limits[0],
        "high": limits[1],
    }


def check_reply(
    text: str, *, marketplace: str, channel: str, stop_words: Sequence[str] = ()
) -> Verdict:
    """Check a reply before it is published; ``block`` findings must stop publication."""
    text = text or ""
    views = _normalise(text)
    limits = LENGTH_LIMITS.get((marketplace, channel), (1, 5000))
    stop_index = _stop_word_index(tuple(stop_words)) if stop_words else None

    # (rule index, start, end) in cleaned-text offsets, then mapped back to the original.
    hits = _lexeme_spans(views, stop_index) + _regex_spans(views)
    offsets = views.offsets
    located = [(rule, offsets[start], offsets[end - 1] + 1) for rule, start, end in hits]
    for index, rule in enumerate(RULES):
        if rule.kind == "length":
            located += [(index, start, end) for start, end in _length_spans(text, limits)]
        elif rule.kind == "empty" and not views.raw.strip():
            located.append((index, 0, len(text)))

    findings: list[Finding] = []
    kept: dict[str, list[tuple[int, int]]] = {}
    # Longest first, so a match inside a longer one of the same category is dropped.
    for index, start, end in sorted(located, key=lambda hit: (hit[1], -hit[2])):
        rule = STOP_WORD_RULE if index < 0 else RULES[index]
        if marketplace not in rule.marketplaces:
            continue
        spans = kept.setdefault(rule.category.value, [])
        if any(a <= start and end <= b for a, b in spans):
            continue
        spans.append((start, end))
        explanation = (
            _length_explanation(limits) if rule.kind == "length" else str(rule.explanation)
        )
        findings.append(
            Finding(
                category=rule.category.value,
                severity=rule.severity.get(channel, Severity.BLOCK).value,
                span=(start, end),
                matched=text[start:end],
                explanation=explanation,
                suggestion=str(rule.suggestion),
            )
        )
    findings.sort(key=lambda f: (f.span, f.category))
    worst = max((Severity(f.severity) for f in findings), key=_ORDER.__getitem__, default=None)
    return Verdict(verdict=(worst or Severity.OK).value, findings=tuple(findings))


# --- near-duplicates ------------------------------------------------------------------------

_SIM_WORD_RE = re.compile(r"[а-яa-z0-9]+")


def _shingles(text: str) -> frozenset[str]:
    tokens = _SIM_WORD_RE.findall(text.lower().replace("ё", "е"))
    if len(tokens) < 2:
        return frozenset(tokens)
    return frozenset(f"{a} {b}" for a, b in itertools.pairwise(tokens))


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of word bigrams, 0.0 (unrelated) to 1.0 (same wording)."""
    left, right = _shingles(a), _shingles(b)
    if not left and not right:
        return 1.0
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)
