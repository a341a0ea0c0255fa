"""Offline ``rules`` analyser: sentiment, intent, priority and a reply draft for one text.

Deterministic and dependency-free apart from pymorphy3: the same input always gives the same
analysis, so it can run inside a request, a job or a benchmark without any network.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from intelligence.rules import learned, replies
from intelligence.rules.lexicon import (
    ACKNOWLEDGEMENTS,
    AGREEMENTS,
    ANSWER_WORDS,
    ARRIVAL_VERBS,
    ASKED_CHARACTERISTICS,
    ASKING,
    CANCEL_WORDS,
    CLOTHING_FIT,
    COUNT_WORDS,
    DAMAGE_WORDS,
    DELIVERY_WORDS,
    EXCHANGE,
    EXPECTING,
    EXPIRED,
    HAVING,
    INTACT,
    LATE_WORDS,
    MEASUREMENTS,
    MEASURES,
    MISSING,
    MONEY,
    NEGATED_BY_TRAILING_NET,
    NON_RETURNABLE,
    NOT_FUNCTIONS,
    NOT_PARTS,
    NOT_YET,
    NOTHING_STATED,
    ORDERED,
    PACKAGING_WORDS,
    PRAISED,
    PRAISED_AS_FACT,
    PRICE_WORDS,
    REFUND_AWAITED,
    RETURN_DONE,
    RETURN_REFUSED,
    RETURN_WORDS,
    SHORT_CONTENT,
    SIZE_COMPARATIVES,
    STOCK_WORDS,
    THANKS,
    TIMING,
    VARIANT_WORDS,
    WAIT_VERBS,
    WAITED,
    WAITING_WORDS,
    WANTING,
)
from intelligence.rules.matcher import (
    BOUNDARY,
    NEGATED,
    TAIL,
    atoms_of,
    is_complaint,
    keys_of,
    score,
)
from intelligence.rules.morph import fold, is_comparative, is_noun, lemma, words

ENGINE = "rules"


class Channel(StrEnum):
    REVIEW = "review"
    QUESTION = "question"
    CHAT = "chat"


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"


class Intent(StrEnum):
    QUALITY_DEFECT = "quality_defect"
    SIZE_FIT = "size_fit"
    WRONG_ITEM = "wrong_item"
    DELIVERY_PACKAGING = "delivery_packaging"
    MATERIAL_SMELL = "material_smell"
    PRICE_VALUE = "price_value"
    RETURN_REFUND = "return_refund"
    PRODUCT_QUESTION = "product_question"
    PRAISE = "praise"
    OTHER = "other"


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


INTENT_LABELS: Mapping[Intent, Any] = MappingProxyType(
    {
        Intent.QUALITY_DEFECT: _("Defect or poor quality"),
        Intent.SIZE_FIT: _("Size or fit"),
        Intent.WRONG_ITEM: _("Wrong or incomplete item"),
        Intent.DELIVERY_PACKAGING: _("Delivery or packaging"),
        Intent.MATERIAL_SMELL: _("Material, smell or taste"),
        Intent.PRICE_VALUE: _("Price or value"),
        Intent.RETURN_REFUND: _("Return or refund"),
        Intent.PRODUCT_QUESTION: _("Question about the product"),
        Intent.PRAISE: _("Praise"),
        Intent.OTHER: _("Other"),
    }
)
SENTIMENT_LABELS: Mapping[Sentiment, Any] = MappingProxyType(
    {
        Sentiment.POSITIVE: _("positive"),
        Sentiment.NEUTRAL: _("neutral"),
        Sentiment.NEGATIVE: _("negative"),
    }
)

# Tie-break order of the labelling guide: earlier wins when scores are equal.
TIE_BREAK: tuple[Intent, ...] = (
    Intent.RETURN_REFUND,
    Intent.WRONG_ITEM,
    Intent.QUALITY_DEFECT,
    Intent.DELIVERY_PACKAGING,
    Intent.SIZE_FIT,
    Intent.MATERIAL_SMELL,
    Intent.PRICE_VALUE,
    Intent.PRODUCT_QUESTION,
    Intent.OTHER,
    Intent.PRAISE,
)
_COMPLAINTS: tuple[Intent, ...] = tuple(
    i for i in TIE_BREAK if i not in (Intent.PRODUCT_QUESTION, Intent.PRAISE)
)
_TIE_BONUS: Mapping[Intent, float] = MappingProxyType(
    {intent: (len(TIE_BREAK) - rank) * 0.01 for rank, intent in enumerate(TIE_BREAK)}
)
_CONCRETE: tuple[Intent, ...] = tuple(i for i in _COMPLAINTS if i != Intent.OTHER)
# Problems a question may report about an item the buyer has ("Пришёл не тот цвет, что
# делать?"); a price or return question comes before a purchase.
_REPORTED: tuple[Intent, ...] = (
    Intent.WRONG_ITEM,
    Intent.QUALITY_DEFECT,
    Intent.DELIVERY_PACKAGING,
    Intent.SIZE_FIT,
    Intent.MATERIAL_SMELL,
)
# What a chat follow-up that thanks may not name: a problem of the item or the order.
_PROBLEMS: tuple[Intent, ...] = tuple(i for i in _CONCRETE if i != Intent.RETURN_REFUND)
_FOLLOW_UP_PROBLEM_MIN = 1.5
_THANKS_TURN_WORDS = 12
_CONCRETE_MIN = 1.0
# Health cues this strong make an item urgent and its draft tell the buyer to see a doctor.
_HEALTH_URGENT = 1.5
# Fire or electric hazard cues this strong make it urgent and tell the buyer to unplug it.
_HAZARD_URGENT = 2.0
# A review of at least this many words may be thanked as "detailed".
_DETAILED_WORDS = 20
# Infinitive endings: a negated verb with one of them may be an item failing its job.
_VERB_ENDINGS: tuple[str, ...] = ("ть", "ться", "ти", "чь")
_FAILED_QD_WEIGHT = 1.0
_MISSING_PART_WEIGHT = 2.5
_ORDER_SPAN = 3
_FAILED_NEG_WEIGHT = 0.8
_TAIL_BONUS = 0.3
_NEUTRAL_NEG_REPLY = 1.0
_EXPECTED_MORE_SPAN = 5
_EXPECTED_MORE_NEG = 2.0
_EXPECTED_SIZE_WEIGHT = 2.0
_MEH_OTHER_PRAISE = 0.5
_ITEM_PRAISE_MIN = 1.0
_STATED_REASON_WORDS = 6
# Below this, `other` comes from topic words ("кожа", "ребёнок"), not from a named reason.
_NAMED_OTHER_MIN = 1.5
# A vague verdict ("не понравилось") needs a longer text before it counts as a reason.
_STATED_REASON_WORDS_VAGUE = 10
_QUESTION_WORDS_MIN = 2.0
_FAILED_QD_MAX = 2.0
# A return or refusal this strong wins over any other complaint.
_RETURN_MIN = 3.0
_VAGUE_DAMP = 0.3
# Star rating as a prior; the text can override it.
_RATING_PRIOR: Mapping[int, float] = MappingProxyType({1: -0.5, 2: -0.4, 3: -0.2, 4: 0.2, 5: 0.3})

# Share of the strongest complaint score that counts as negative evidence.
_COMPLAINT_AS_NEG = 0.35
# Both praise and complaint of at least this weight make a text mixed; its balance shrinks.
_MIXED_MIN = 1.0
_MIXED_SCALE = 0.7
_MIXED_SCALE_CONTRAST = 0.3
# Half-width of the neutral band of the balance, for three stars and otherwise.
_BAND_3 = 0.35
_BAND = 0.25

_SMILE_RE = re.compile(r"(?<![(:;])\){2,}|[:;]-?\)|[😀😁😂😃😄😅😊😍😘🥰🤩👍👌💯🔥❤♥💖💕🙏😻✨]")
_FROWN_RE = re.compile(r"\({2,}|[:;]-?\(|[😡😠🤬👎😢😭😞😔😒🤮🤢💩😩😤🙁☹]")
_QUESTION_RE = re.compile(r"\?")
_SENTENCE_RE = re.compile(r"(?<=[.!?…])\s+|\n+")
_COLOURS: frozenset[str] = frozenset(
    {
        "белый",
        "черный",
        "красный",
        "синий",
        "зеленый",
        "желтый",
        "розовый",
        "серый",
        "голубой",
        "бежевый",
        "коричневый",
        "фиолетовый",
        "оранжевый",
        "бордовый",
        "молочный",
        "сиреневый",
        "бирюзовый",
        "хаки",
        "салатовый",
        "лиловый",
    }
)
# In the order they are looked for.
_DETAIL_LEMMAS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "allergy": frozenset({"аллергия", "сыпь", "зуд", "покраснение", "раздражение", "ожог"}),
        "expiry": frozenset({"годность", "просрочка", "просрочить", "просроченный"}),
        "authenticity": frozenset(
            {"подделка", "подделать", "поддельный", "паленый", "фейк", "реплика", "!оригинал"}
        ),
        "smell": frozenset({"запах", "пахнуть", "вонять", "вонь", "вонючий", "запашок"}),
        "taste": frozenset(
            {"вкус", "привкус", "горчить", "горький", "горечь", "невкусный", "кислый"}
        ),
        "colour": frozenset({"цвет", "оттенок", "фото", "фотография", "картинка"}),
        "texture": frozenset(
            {"консистенция", "текстура", "жидкий", "густой", "комок", "расслаиваться"}
        ),
        "fabric": frozenset({"ткань", "материал", "синтетика", "колючий", "тонкий"}),
    }
)
# A satisfied review whose only point is one of these takes that label (and thanks for it);
# the cue label of a satisfied remark on each.
_SATISFIED: Mapping[Intent, str] = MappingProxyType(
    {
        Intent.DELIVERY_PACKAGING: "deliv_ok",
        Intent.PRICE_VALUE: "price_ok",
        Intent.SIZE_FIT: "size_ok",
    }
)
# Chat answers that take for granted a parcel the buyer has or awaits: "упаковка" or
# "доставка" in a question before a purchase does not make one.
_PARCEL_BODIES: frozenset[str] = frozenset({"delivery_packaging", "delivery_late"})
# A chat complaint of this many content words says what happened: it is not asked to.
_STATED_WORDS = 4
# Details said whatever the intent; the others only of a material or smell complaint.
_ALWAYS_RELEVANT: frozenset[str] = frozenset({"allergy", "expiry", "authenticity"})
# Materials whose new items may smell of the factory for a while ("кожа" alone is as often
# the skin a cream or a perfume is put on); never said of a burnt smell.
_NEW_ITEM_MATERIALS: frozenset[str] = frozenset(
    {
        "ткань",
        "материал",
        "синтетика",
        "резина",
        "резиновый",
        "пластик",
        "пластиковый",
        "кожаный",
        "кожзам",
        "экокожа",
    }
)
_BURNT: frozenset[str] = frozenset({"горелый", "гарь", "жженый", "паленый", "палить", "гореть"})
_STOP_LEMMAS: frozenset[str] = frozenset(
    {
        "и",
        "в",
        "на",
        "с",
        "по",
        "для",
        "из",
        "а",
        "или",
        "как",
        "какой",
        "ли",
        "есть",
        "у",
        "товар",
        "это",
        "быть",
        "что",
        "подсказать",
        "сказать",
        "можно",
        "он",
        "она",
        "они",
    }
)


@dataclass(frozen=True, slots=True)
class AnalysisInput:
    channel: str
    marketplace: str
    text: str
    rating: int | None = None
    pros: str = ""
    cons: str = ""
    customer_name: str = ""
    product_name: str = ""
    product_card: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    seed: str = ""
    # A chat the seller has answered before: the buyer's messages since the seller's last
    # reply (what the next reply answers; empty when the seller wrote last) and that reply.
    # Both empty for reviews, questions and chats the seller has not written in yet.
    follow_up: str = ""
    last_reply: str = ""


@dataclass(frozen=True, slots=True)
class Analysis:
    sentiment: str
    intent: str
    priority: str
    priority_reasons: tuple[str, ...]
    needs_response: bool
    summary: str
    draft: str
    engine: str = ENGINE

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentiment": self.sentiment,
            "intent": self.intent,
            "priority": self.priority,
            "priority_reasons": list(self.priority_reasons),
            "needs_response": self.needs_response,
            "summary": self.summary,
            "draft": self.draft,
            "engine": self.engine,
        }


@dataclass(frozen=True, slots=True)
class _Signals:
    scores: Mapping[str, float]
    keys: tuple[str, ...]
    questions: int


def analyze_text(inp: AnalysisInput) -> Analysis:
    """Analyse one review, question or chat message with the offline rules engine."""
    signals = _signals(inp)
    view = _rule_view(signals, inp)
    sentiment, intent = Sentiment(view.sentiment), Intent(view.intent)
    needs_response = view.needs_response
    model = learned.default_model()
    if model is not None and inp.channel == Channel.REVIEW and inp.rating is not None:
        # The learned layer weighs the rules' cues and verdicts against each other; it was
        # trained on rated reviews only, so questions, chats and unrated texts keep the rules'
        # verdicts.
        sentiment, intent, needs_response = _learned_verdicts(model, view)
    replied = inp.channel == Channel.CHAT and bool(inp.last_reply)
    turn = _follow_up(inp)
    if replied and (turn is None or _thanks_only(turn)):
        # The seller wrote last, or "Хорошо, спасибо!" ends the exchange.
        needs_response = False
    priority, reasons = _priority(signals, sentiment, intent, needs_response, inp)
    if priority == Priority.URGENT and not replied:
        # Harm to health, a hazard or legal action awaits a person's answer, even in praise.
        needs_response = True
    if replied:
        draft = _follow_up_draft(inp, turn)
    else:
        draft = _draft(inp, sentiment, intent, needs_response, signals)
    return Analysis(
        sentiment=sentiment.value,
        intent=intent.value,
        priority=priority.value,
        priority_reasons=reasons,
        needs_response=needs_response,
        summary=_summary(inp, sentiment, intent),
        draft=draft,
    )


def rule_view(inp: AnalysisInput) -> learned.RuleView:
    """What the rules alone make of ``inp``: the input of the learned layer (and its training)."""
    return _rule_view(_signals(inp), inp)


def _rule_view(signals: _Signals, inp: AnalysisInput) -> learned.RuleView:
    sentiment = _sentiment(signals, inp.rating)
    if (
        inp.channel == Channel.QUESTION
        and sentiment == Sentiment.NEGATIVE
        and signals.questions
        and not _has_the_item(signals.keys)
    ):
        # Asked before a purchase ("Можно ли вернуть, если не подойдёт?", "Почему так
        # дорого?"): no complaint about an item the buyer does not have.
        sentiment = Sentiment.NEUTRAL
    intent, issue = _intent(signals, sentiment, inp.channel)
    needs_response = _needs_response(sentiment, intent, issue, signals, inp.channel)
    return learned.RuleView(
        keys=signals.keys,
        scores=signals.scores,
        questions=signals.questions,
        rating=inp.rating,
        sentiment=sentiment.value,
        intent=intent.value,
        needs_response=needs_response,
        is_settled=_settled_neutral(signals),
    )


def _learned_verdicts(
    model: learned.LinearModel, view: learned.RuleView
) -> tuple[Sentiment, Intent, bool]:
    sentiment, intent, needs_response = model.verdicts(view)
    return Sentiment(sentiment), Intent(intent), needs_response


# --- scoring ------------------------------------------------------------------------------


def _signals(inp: AnalysisInput) -> _Signals:
    pros, pros_keys = _field(inp.pros)
    cons, cons_keys = _field(inp.cons)
    # What the buyer liked ("Достоинства") is never the complaint: it weighs for the verdict
    # but names no topic, so "Достоинства: цена" under a 3★ text about the looks is not a
    # price question.
    text = "\n".join(part for part in (inp.text, cons) if part)
    keys = keys_of(text)
    totals = score(keys)
    if cons:
        cons_scores = score(cons_keys)
        if cons_scores["neg"] > 0.0 or cons_scores["pos"] <= 0.0:
            # Anything in "Недостатки" is a stated shortcoming, whatever words it uses
            # (but "всё устраивает" is not).
            totals["neg"] += 1.0
            totals["issue"] += 1.0
    if pros:
        totals["pos"] += max(score(pros_keys)["pos"], 1.0)
    elif pros_keys:
        totals["neg"] += 1.0  # "Достоинства: нет"
    smiles = len(_SMILE_RE.findall(text))
    frowns = len(_FROWN_RE.findall(text))
    # A lone bracket is a smiley too ("подошло)", "порвалось("), unless it closes a
    # parenthesis opened before it.
    unmatched = text.count(")") - text.count("(")
    if unmatched > 0 and not smiles:
        smiles = 1
    elif unmatched < 0 and not frowns:
        frowns = 1
    totals["pos"] += min(smiles, 3) * 0.6
    totals["neg"] += min(frowns, 3) * 0.7
    if _ordered_one_got_another(keys):
        # "Заказывала камуфляж, пришла обычная база": a different item was sent.
        totals[Intent.WRONG_ITEM.value] += _MISSING_PART_WEIGHT
        totals["neg"] += 1.0
    if _arrived_without_a_part(keys):
        # "Пришёл без провода": part of the order is missing.
        totals[Intent.WRONG_ITEM.value] += _MISSING_PART_WEIGHT
        totals["neg"] += 1.0
    expected = _expected_more(keys)
    if expected is not None:
        totals["neg"] += _EXPECTED_MORE_NEG
        if expected in SIZE_COMPARATIVES:
            # "Думал, будет побольше": the item's physical size.
            totals[Intent.SIZE_FIT.value] += _EXPECTED_SIZE_WEIGHT
    if _not_yet_done(keys):
        # "Пока не подключали", "ещё не пробовала": nothing evaluated so far.
        totals["fact"] += 1.0
    failed = _failed_functions(keys)
    if failed and totals.get(Intent.QUALITY_DEFECT.value, 0.0) < _FAILED_QD_MAX:
        # "Не подтягивает, не разглаживает": a negated action verb says the item
        # does not do what it is for.
        totals[Intent.QUALITY_DEFECT.value] += min(failed, 2) * _FAILED_QD_WEIGHT
        totals["neg"] += min(failed, 2) * _FAILED_NEG_WEIGHT
        if totals.get(TAIL + "negation", 0.0) > 0.0:
            # "Пахнет приятно, но не промывает": the failing verb follows the contrast.
            totals[TAIL + Intent.QUALITY_DEFECT.value] += _FAILED_QD_WEIGHT
    vague = totals.pop("vague", 0.0)
    if vague:
        # "Didn't like it" is `other` only while the text names no concrete reason.
        concrete = max((totals.get(i.value, 0.0) for i in _CONCRETE), default=0.0)
        added = vague if concrete < _CONCRETE_MIN else vague * _VAGUE_DAMP
        totals["other"] += added
        totals["vague_other"] += added
    if totals.get("wrong_item", 0.0) < 2.5 and _names_two_colours(keys):
        totals["wrong_item"] += 2.5
    return _Signals(scores=totals, keys=tuple(keys), questions=len(_QUESTION_RE.findall(text)))


def _field(text: str) -> tuple[str, list[str]]:
    """A pros or cons field: (its text if it states something, its lemma keys).

    "Недостатки: нет" or "-" states nothing (empty text); the keys tell "нет" (keys) from a
    field left blank or a dash (no keys).
    """
    keys = [key for key in keys_of(text) if key != BOUNDARY]
    if all(key in NOTHING_STATED for key in keys):
        return "", keys
    return text.strip(), keys


def _ordered_one_got_another(keys: list[str]) -> bool:
    for i, key in enumerate(keys):
        if key not in ORDERED:
            continue
        window = keys[i + 2 : i + 2 + _ORDER_SPAN]
        if any(later in ARRIVAL_VERBS for later in window) and not TIMING.intersection(
            keys[i : i + 2 + _ORDER_SPAN + 2]
        ):
            return True
    return False


def _arrived_without_a_part(keys: list[str]) -> bool:
    """ "Пришёл без провода", "пришёл крем без крышки": part of the order is missing."""
    for i, key in enumerate(keys[:-2]):
        if key not in ARRIVAL_VERBS:
            continue
        # The item may be named between the verb and "без".
        at = i + 1 if keys[i + 1] == "без" else i + 2
        if at >= len(keys) or keys[at] != "без" or not (at == i + 1 or is_noun(keys[i + 1])):
            continue
        for later in keys[at + 1 : at + 3]:
            if later == BOUNDARY:
                break
            noun = later.removeprefix(NEGATED)
            if noun in NOT_PARTS or noun in NEGATED_BY_TRAILING_NET:
                break
            if noun in COUNT_WORDS:
                continue
            return True
    return False


def _expected_more(keys: list[str]) -> str | None:
    """ "Ожидала вкуснее", "думал, будет прочнее": an expectation the item fell short of,
    the comparative that says it ("больше" of size; of "больше эффекта" it is "")."""
    for i, key in enumerate(keys):
        if key not in EXPECTING:
            continue
        for at in range(i + 1, min(i + 1 + _EXPECTED_MORE_SPAN, len(keys))):
            later = keys[at]
            if later == BOUNDARY:
                break
            if is_comparative(later):
                after = keys[at + 1] if at + 1 < len(keys) else BOUNDARY
                # "Думала, будет больше" is the size; "ожидала больше эффекта" is not.
                return "" if is_noun(after) and after not in MEASURES else later
    return None


def _not_yet_done(keys: list[str]) -> bool:
    return any(
        key.startswith(NEGATED)
        and key.endswith(_VERB_ENDINGS)
        and NOT_YET.intersection(keys[max(0, i - 2) : i])
        for i, key in enumerate(keys)
    )


def _failed_functions(keys: list[str]) -> int:
    count = 0
    for i, key in enumerate(keys):
        if (
            key.startswith("!")
            and not NOT_YET.intersection(keys[max(0, i - 2) : i])
            and key.endswith(_VERB_ENDINGS)
            and key[1:] not in NOT_FUNCTIONS
            and not is_complaint(key[1:])
        ):
            # A denied fault ("не линяет") is no failure.
            count += 1
    return count


def _names_two_colours(keys: list[str]) -> bool:
    ordered = {"заказывать", "заказать"}
    return bool(ordered.intersection(keys)) and len(_COLOURS.intersection(keys)) >= 2


def _sentiment(signals: _Signals, rating: int | None) -> Sentiment:
    pos = signals.scores.get("pos", 0.0)
    neg = signals.scores.get("neg", 0.0)
    prior = _RATING_PRIOR.get(rating, 0.0) if rating is not None else 0.0
    if _settled_neutral(signals):
        return Sentiment.NEUTRAL
    if pos == 0.0 and neg == 0.0:
        if rating is None or rating == 3:
            return Sentiment.NEUTRAL
        return Sentiment.POSITIVE if rating >= 4 else Sentiment.NEGATIVE
    # A named problem (a defect, a wrong item…) is itself negative evidence.
    _, complaint = _best(signals.scores, _COMPLAINTS)
    neg += _COMPLAINT_AS_NEG * complaint
    balance = (pos - neg) / (pos + neg + 1.0)
    if min(pos, neg) >= _MIXED_MIN:
        # Praise and a complaint in one text: mixed feelings, so pull towards neutral;
        # all the more when a contrast marker ("но", "зато") joins them.
        contrast = signals.scores.get("contrast", 0.0) > 0.0
        balance *= _MIXED_SCALE_CONTRAST if contrast else _MIXED_SCALE
    balance += prior
    # A three-star rating says "so-so": the text must be clearly one-sided to leave neutral.
    band = _BAND_3 if rating == 3 else _BAND
    if balance > band:
        return Sentiment.POSITIVE
    if balance < -band:
        return Sentiment.NEGATIVE
    return Sentiment.NEUTRAL


def _settled_neutral(signals: _Signals) -> bool:
    """The text evaluates nothing, or only says "it's OK": neutral whatever the stars say."""
    pos = signals.scores.get("pos", 0.0)
    neg = signals.scores.get("neg", 0.0)
    if signals.scores.get("fact", 0.0) >= 1.0 and neg < 1.0 and pos < 2.0:
        # "Bought as a gift, haven't tried it yet": nothing evaluated so far.
        return True
    meh = signals.scores.get("meh", 0.0)
    # "Нормально", "сойдёт": the only verdict is "it's OK", which the guide calls neutral.
    return meh > 0.0 and pos - meh < _MEH_OTHER_PRAISE and neg < 1.0


def _follow_up(inp: AnalysisInput) -> _Signals | None:
    """The signals of a chat's new buyer messages after a reply of the seller's, if any."""
    if inp.channel != Channel.CHAT or not inp.follow_up.strip():
        return None
    return _signals(
        AnalysisInput(channel=inp.channel, marketplace=inp.marketplace, text=inp.follow_up)
    )


def _thanks(signals: _Signals) -> bool:
    """The turn thanks the seller or agrees, asks nothing and names no new problem
    ("Спасибо, всё получила", "Хорошо, сделаю фото", "Оформила возврат, спасибо")."""
    words = [key for key in signals.keys if key != BOUNDARY]
    if not words or signals.questions or signals.scores.get("q", 0.0) >= 1.0:
        return False
    if all(key in ACKNOWLEDGEMENTS for key in words):
        # "Спасибо, жду", "спасибо за ответ" acknowledge; "жду ответа" asks for an answer
        # still owed.
        return not (ANSWER_WORDS.intersection(words) and WAIT_VERBS.intersection(words))
    agrees = THANKS.intersection(words) or words[0] in AGREEMENTS  # "Хорошо, пришлю фото"
    if signals.scores.get("contrast", 0.0) or not agrees:
        return False
    _, problem = _best(signals.scores, _PROBLEMS)
    return problem < _FOLLOW_UP_PROBLEM_MIN and len(words) <= _THANKS_TURN_WORDS


def _thanks_only(signals: _Signals) -> bool:
    """Thanks with nothing left to act on: no answer needed (a return in progress still is)."""
    return _thanks(signals) and (
        signals.scores.get(Intent.RETURN_REFUND.value, 0.0) < _FOLLOW_UP_PROBLEM_MIN
    )


def _best(scores: Mapping[str, float], candidates: tuple[Intent, ...]) -> tuple[Intent, float]:
    best, best_score = Intent.OTHER, 0.0
    for intent in candidates:
        value = scores.get(intent.value, 0.0)
        if value <= 0.0:
            continue
        value += _TIE_BONUS[intent]
        if value > best_score:
            best, best_score = intent, value
    return best, best_score


def _intent(signals: _Signals, sentiment: Sentiment, channel: str) -> tuple[Intent, float]:
    """The primary intent and the strength of the complaint behind it."""
    scores = signals.scores
    complaint, strength = _best(_with_tail_bonus(scores), _COMPLAINTS)
    asking = scores.get("q", 0.0) + min(signals.questions, 2) * 1.5
    if (
        scores.get(Intent.RETURN_REFUND.value, 0.0) >= _RETURN_MIN
        and sentiment != Sentiment.POSITIVE
    ):
        # A return or refusal beats the complaint behind it (tie-break rule 1 of the guide).
        return Intent.RETURN_REFUND, max(strength, 1.0)
    # A question inside a complaint ("why is it scratched?") does not make the text a
    # question (tie-break rule 5 of the guide): an unhappy review must mainly be asking.
    unhappy = sentiment == Sentiment.NEGATIVE and scores.get("q", 0.0) < _QUESTION_WORDS_MIN
    if (
        signals.questions
        and asking >= 2.5
        and ((strength < 3.0 and not unhappy) or channel == Channel.QUESTION)
    ):
        return Intent.PRODUCT_QUESTION, strength
    if channel == Channel.QUESTION and strength < 3.0:
        return Intent.PRODUCT_QUESTION, strength
    if sentiment == Sentiment.POSITIVE or _caveat(scores):
        if _caveat(scores):
            # "Tasty, but runny": the clause after the contrast names the shortcoming.
            tail, tail_strength = _best(_tail(scores), _COMPLAINTS)
            if tail_strength >= 0.5:
                return tail, max(tail_strength, 1.0)
            if strength >= 1.0:
                return complaint, strength
            return Intent.OTHER, 1.0
        if sentiment == Sentiment.POSITIVE:
            if strength >= 2.0 and (scores.get("neg", 0.0) >= 1.0 or scores.get("contrast", 0.0)):
                return complaint, strength
            return _positive_intent(scores), 0.0
    if (
        sentiment == Sentiment.NEGATIVE
        and (complaint == Intent.OTHER or strength < 1.0)
        and _states_a_reason(signals)
    ):
        # A complaint that states a reason the lexicon does not name ("the lamp lights
        # the ceiling and not the room") is most often about the item not doing its job.
        return Intent.QUALITY_DEFECT, max(strength, 1.0)
    if strength >= 1.0:
        return complaint, strength
    if sentiment == Sentiment.NEUTRAL and scores.get("pos", 0.0) >= 2.0:
        return _positive_intent(scores), 0.0
    return Intent.OTHER, strength


def _states_a_reason(signals: _Signals) -> bool:
    """Beyond a bare verdict, the text says something the lexicon cannot place."""
    scores = signals.scores
    vague = scores.get("vague_other", 0.0)
    if scores.get(Intent.OTHER.value, 0.0) - vague >= _NAMED_OTHER_MIN:
        # Allergy, expiry, a pet that won't eat: a named `other` reason.
        return False
    needed = _STATED_REASON_WORDS_VAGUE if vague else _STATED_REASON_WORDS
    return _content_words(signals.keys) >= needed


def _content_words(keys: tuple[str, ...]) -> int:
    return len(keys) - keys.count(BOUNDARY)


def _with_tail_bonus(scores: Mapping[str, float]) -> Mapping[str, float]:
    """A complaint stated after "но" is most often the reason a star was taken off."""
    if not scores.get("shift"):
        return scores
    boosted = dict(scores)
    for intent in _COMPLAINTS:
        boosted[intent.value] = boosted.get(intent.value, 0.0) + _TAIL_BONUS * scores.get(
            TAIL + intent.value, 0.0
        )
    return boosted


def _tail(scores: Mapping[str, float]) -> dict[str, float]:
    return {key[len(TAIL) :]: value for key, value in scores.items() if key.startswith(TAIL)}


def _tail_neg(scores: Mapping[str, float]) -> float:
    return scores.get(TAIL + "neg", 0.0) + 0.7 * scores.get(TAIL + "negation", 0.0)


def _caveat(scores: Mapping[str, float]) -> bool:
    """Praise followed by a contrast marker and a stated shortcoming."""
    return (
        scores.get("pos", 0.0) - scores.get(TAIL + "pos", 0.0) >= 1.0 and _tail_neg(scores) >= 0.5
    )


def _positive_intent(scores: Mapping[str, float]) -> Intent:
    # A satisfied review whose only point is delivery, price or size takes that label.
    remarks = {intent: scores.get(label, 0.0) for intent, label in _SATISFIED.items()}
    remarks[Intent.PRICE_VALUE] += scores.get("price_value", 0.0) * 0.5
    remark, weight = max(remarks.items(), key=lambda item: item[1])
    praise = scores.get("pos", 0.0) - weight
    # Praise of the item itself (taste, quality, comfort) stays praise beside the remark.
    if weight >= 2.0 and praise < 3.0 and scores.get("item", 0.0) < _ITEM_PRAISE_MIN:
        return remark
    return Intent.PRAISE


def _needs_response(
    sentiment: Sentiment, intent: Intent, issue: float, signals: _Signals, channel: str
) -> bool:
    if channel in (Channel.QUESTION, Channel.CHAT):
        return True
    if intent == Intent.PRODUCT_QUESTION or sentiment == Sentiment.NEGATIVE:
        return True
    if signals.scores.get("issue", 0.0) > 0.0 or _caveat(signals.scores):
        return True
    if intent in (Intent.PRAISE, Intent.OTHER):
        # A neutral text that names any shortcoming ("так себе", "но звук не очень") is
        # worth an answer; "bought as a gift" is not.
        threshold = _NEUTRAL_NEG_REPLY if sentiment == Sentiment.NEUTRAL else 2.0
        return signals.scores.get("neg", 0.0) >= threshold and sentiment != Sentiment.POSITIVE
    return not (sentiment == Sentiment.POSITIVE and issue == 0.0)


def _priority(
    signals: _Signals,
    sentiment: Sentiment,
    intent: Intent,
    needs_response: bool,
    inp: AnalysisInput,
) -> tuple[Priority, tuple[str, ...]]:
    scores = signals.scores
    reasons: list[str] = []
    if scores.get("legal", 0.0) >= 2.0:
        reasons.append(gettext("Mentions legal action or authorities"))
    if _harms_health(signals):
        reasons.append(gettext("Possible harm to health"))
    if _is_hazard(signals):
        reasons.append(gettext("A fire or electric shock hazard"))
    if reasons:
        return Priority.URGENT, tuple(reasons)
    if not needs_response:
        return Priority.LOW, (gettext("No reply needed"),)
    if inp.rating is not None and inp.rating <= 2 and sentiment == Sentiment.NEGATIVE:
        reasons.append(gettext("Low star rating"))
    serious = (Intent.RETURN_REFUND, Intent.WRONG_ITEM, Intent.QUALITY_DEFECT)
    if intent in serious and sentiment == Sentiment.NEGATIVE:
        reasons.append(gettext("Return, wrong item or defect"))
    if reasons:
        return Priority.HIGH, tuple(reasons)
    if intent == Intent.PRODUCT_QUESTION:
        reasons.append(gettext("The customer asks a question"))
    elif sentiment == Sentiment.NEGATIVE:
        reasons.append(gettext("Negative feedback"))
    elif inp.channel == Channel.CHAT:
        reasons.append(gettext("A chat message awaits a reply"))
    else:
        reasons.append(gettext("Mentions a shortcoming"))
    return Priority.NORMAL, tuple(reasons)


# --- summary and draft --------------------------------------------------------------------


# A sentence that only greets ("Здравствуйте!", "Добрый день,") tells nothing in a summary.
_GREETING_RE = re.compile(
    r"^(?:здравствуйте|добрый\s+(?:день|вечер|утро)|доброе\s+утро|доброго\s+времени\s+суток"
    r"|привет(?:ствую)?)[\s!.,)]*$",
    re.IGNORECASE,
)


def _excerpt(text: str, limit: int = 90) -> str:
    sentences = [s.strip() for s in _SENTENCE_RE.split(text.strip()) if s.strip()]
    first = next(
        (s for s in sentences if not _GREETING_RE.match(s)), sentences[0] if sentences else ""
    )
    first = " ".join(first.split())
    if len(first) > limit:
        first = first[: limit - 1].rstrip() + "…"
    return first


def _summary(inp: AnalysisInput, sentiment: Sentiment, intent: Intent) -> str:
    values = {
        "topic": INTENT_LABELS[intent],
        "sentiment": SENTIMENT_LABELS[sentiment],
        "excerpt": _excerpt(inp.text or inp.cons or inp.pros),
    }
    if inp.rating is not None:
        values["rating"] = inp.rating
        return gettext("%(topic)s, %(sentiment)s, %(rating)s★: «%(excerpt)s»") % values
    return gettext("%(topic)s, %(sentiment)s: «%(excerpt)s»") % values


# What a reply should say once: thanks, regret, apology, (un)met expectations.
_FEELINGS: tuple[tuple[str, str], ...] = (
    ("thanks", r"спасибо|благодар"),
    ("regret", r"жаль|сожале|неприятн|огорч"),
    ("apology", r"извин|прощени"),
    ("study", r"изуч"),
    ("expectation", r"оправда"),
    ("pleasure", r"приятн|рад|порад"),
)
_FEELING_RE = re.compile("|".join(rf"\b(?P<{name}>{stems})" for name, stems in _FEELINGS))


def _feelings(text: str) -> frozenset[str]:
    return frozenset(m.lastgroup for m in _FEELING_RE.finditer(text.lower()) if m.lastgroup)


# The reply blocks are a fixed set: each one's feelings are found once per process.
_block_feelings = lru_cache(maxsize=None)(_feelings)


def _pick(options: tuple[str, ...], seed: str, slot: str, *, after: Sequence[str] = ()) -> str:
    """One of `options` by a hash of `seed` and `slot`; with `after` (the sentences so far),
    one that repeats none of their words of feeling ("Нам очень жаль… Очень жаль…")."""
    if after:
        used = _feelings(" ".join(after))
        options = tuple(o for o in options if not used & _block_feelings(o)) or options
    return options[zlib.crc32(f"{seed}\x1f{slot}".encode()) % len(options)]


# What a marketplace shows for a buyer without a name ("Покупатель") and other non-names: the
# draft then greets "Здравствуйте!", not "Покупатель, здравствуйте!".
_NOT_NAMES: frozenset[str] = frozenset(
    {
        "покупатель",
        "покупательница",
        "аноним",
        "анонимный",
        "пользователь",
        "клиент",
        "гость",
        "неизвестный",
        "user",
        "buyer",
        "customer",
        "anonymous",
        "guest",
        "wildberries",
        "вайлдберриз",
        "ozon",
        "озон",
    }
)
_NAME_RE = re.compile(r"[A-Za-zА-Яа-яЁё]{2,30}(?:-[A-Za-zА-Яа-яЁё]{2,30})?")


def greeting_name(raw: str) -> str:
    """The buyer's first name to greet, capitalised ("ольга петрова" → "Ольга"), or "" when
    the marketplace gave none ("Покупатель", "User12345", "—")."""
    words_ = raw.split()
    if not words_ or any(w.strip(".,!").lower() in _NOT_NAMES for w in words_):
        return ""
    first = words_[0].rstrip(".,!")
    if not _NAME_RE.fullmatch(first):
        return ""
    return "-".join(part.capitalize() for part in first.split("-"))


# Marketplace titles run long ("Платье женское летнее, сарафан в пол (хлопок) / 42-48"): a
# reply names the product by the title's head, up to a comma, slash or bracket.
_TITLE_HEAD_RE = re.compile(r"\s*(?:[,;|(\[]|\s/\s).*$")
_TITLE_MAX = 60


def _short_title(product_name: str) -> str:
    name = _TITLE_HEAD_RE.sub("", " ".join(product_name.split())) or product_name.strip()
    if len(name) > _TITLE_MAX:
        head = name[:_TITLE_MAX].split()[:-1]
        while head and head[-1].lower() in _STOP_LEMMAS:  # no "… универсальный в"
            head.pop()
        name = " ".join(head) or name[:_TITLE_MAX]
    return name


def _product_forms(product_name: str) -> dict[str, str]:
    name = _short_title(product_name)
    suffix = f" «{name}»" if name else ""
    return {slot: noun + suffix for slot, noun in replies.PRODUCT_NOUN.items()}


def _detail(keys: tuple[str, ...], intent: Intent) -> str | None:
    present = set(keys)
    for detail, lemmas in _DETAIL_LEMMAS.items():
        relevant = detail in _ALWAYS_RELEVANT or intent == Intent.MATERIAL_SMELL
        if relevant and present.intersection(lemmas):
            if detail == "smell" and present & _NEW_ITEM_MATERIALS and not present & _BURNT:
                return "smell_new_item"
            return detail
    return None


def _has_the_item(keys: tuple[str, ...]) -> bool:
    """The buyer writes about an item they have: it came, they bought it, it fails
    ("не включается"), or an order that has not come ("заказ до сих пор не пришёл"), rather
    than asking before a purchase ("маломерит?")."""
    present = {key.removeprefix(NEGATED) for key in keys}
    return bool(present & (ARRIVAL_VERBS | ORDERED | HAVING)) or _failed_functions(list(keys)) > 0


def _praised(keys: tuple[str, ...]) -> str | None:
    """What a happy review praises first (lexicon.PRAISED), if it names anything. An aspect
    counts where its sentence praises and finds no fault ("Запах приятный", not "Присутствует
    запах при нагревании" inside a 4★ review), a gift or a repeat order wherever it is said."""
    present = set(keys)
    sentences: list[list[str]] = [[]]
    for key in keys:
        if key == BOUNDARY:
            sentences.append([])
        else:
            sentences[-1].append(key)
    for aspect, lemmas, beside in PRAISED:
        if not present & lemmas or (beside and not present & beside):
            continue
        if aspect in PRAISED_AS_FACT:
            return aspect
        for sentence in sentences:
            if lemmas.intersection(sentence):
                scores = score(sentence)
                if scores.get("pos", 0.0) > 0.0 and scores.get("neg", 0.0) <= 0.0:
                    return aspect
    return None


def _harms_health(signals: _Signals) -> bool:
    """Poisoned, injured, a reaction: urgent, and the reply says to stop and see a doctor."""
    return signals.scores.get("health", 0.0) >= _HEALTH_URGENT


def _is_hazard(signals: _Signals) -> bool:
    """Sparks, smoke, an electric shock: urgent, and the reply says to stop and unplug it."""
    return signals.scores.get("hazard", 0.0) >= _HAZARD_URGENT


def _safety_body(signals: _Signals) -> str | None:
    """The body that comes before any other answer: "health" or "hazard", if either."""
    if _harms_health(signals):
        return "health"
    if _is_hazard(signals):
        return "hazard"
    return None


def _characteristic_answer(inp: AnalysisInput, seed: str) -> str | None:
    characteristics = inp.product_card.get("characteristics") if inp.product_card else None
    if not isinstance(characteristics, Mapping) or not characteristics:
        return None
    asked = {lemma(w) for w in words(inp.text)} - _STOP_LEMMAS
    asked |= {name for word in asked for name in ASKED_CHARACTERISTICS.get(word, ())}
    for name, value in characteristics.items():
        name_lemmas = {lemma(w) for w in words(str(name))} - _STOP_LEMMAS
        if name_lemmas & asked:
            rendered = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
            return _pick(replies.CHARACTERISTIC_ANSWER, seed, "char").format(
                characteristic=fold(str(name)), value=str(rendered)
            )
    return None


def _body_key(intent: Intent, sentiment: Sentiment, needs_response: bool, signals: _Signals) -> str:
    if intent == Intent.OTHER:
        return "other_negative" if sentiment == Sentiment.NEGATIVE else "other_neutral"
    if sentiment == Sentiment.NEGATIVE or intent == Intent.RETURN_REFUND:
        return intent.value
    if intent in _SATISFIED:
        if sentiment == Sentiment.POSITIVE and not needs_response:
            return "praise"  # "Быстрая доставка!", "за такую цену отлично"
        if _complains_of(intent, signals):
            return intent.value  # "всё хорошо, но доставка заняла две недели"
        # "Пришло быстро, упаковано аккуратно; про вкус не знаю": no apology for the delivery.
        if sentiment == Sentiment.NEUTRAL:
            return "other_neutral"  # "Доставка быстрая, но крем не впечатлил"
        return "praise_with_remark"
    if sentiment == Sentiment.NEUTRAL:
        return intent.value
    if intent == Intent.PRAISE and not needs_response:
        return "praise"
    # A happy buyer's caveat ("вкусно, но вяжет", "по размеру, но в груди может не подойти")
    # is thanked and noted: never "the item let you down", "sorry the size did not fit" or,
    # to a review that praised the delivery, "sorry the delivery spoiled it".
    return "praise_with_remark"


def _complains_of(intent: Intent, signals: _Signals) -> bool:
    """Whether a delivery, price or size remark is a complaint: it says nothing satisfied of
    it ("пришло быстро", "по размеру", "за такую цену отлично"), or names damage."""
    if intent == Intent.DELIVERY_PACKAGING and DAMAGE_WORDS.intersection(signals.keys):
        return True  # "коробка помята, но пришло быстро"
    return signals.scores.get(_SATISFIED[intent], 0.0) <= 0.0


def _precise(body_key: str, keys: tuple[str, ...]) -> str:
    """The body for what a return or delivery complaint is precisely about: a refused return
    or an awaited refund is not told how to return, an exchange is told how it is done, a
    return already made is not explained again, a late parcel is not told how to return a
    damaged one, an empty or underfilled order is not called a mix-up."""
    present = set(keys)
    if body_key == Intent.RETURN_REFUND:
        if present & NON_RETURNABLE:
            return "non_returnable"
        if present & RETURN_REFUSED:
            return "return_refused"
        if present & MONEY and present & REFUND_AWAITED:
            return "refund_awaited"
        if present & EXCHANGE:
            return "exchange"
        done = bool(present & RETURN_DONE) or ("оформить", "возврат") in itertools.pairwise(keys)
        if done and not present & WANTING:
            return "return_done"
    elif body_key == Intent.WRONG_ITEM and (
        present & MISSING or _arrived_without_a_part(list(keys))
    ):
        return "missing_part"
    elif body_key in (Intent.WRONG_ITEM, Intent.DELIVERY_PACKAGING) and any(
        SHORT_CONTENT & atoms_of(key) for key in keys
    ):
        # An empty box or an underfilled jar: no mix-up with another item, no late parcel.
        return "short_content"
    elif body_key == Intent.SIZE_FIT and not present & CLOTHING_FIT:
        return "size_other"
    elif (
        body_key == Intent.DELIVERY_PACKAGING
        and present & LATE_WORDS
        and not present & (DAMAGE_WORDS | PACKAGING_WORDS)
    ):
        return "delivery_late"
    return body_key


def _chat_body(
    inp: AnalysisInput,
    sentiment: Sentiment,
    intent: Intent,
    signals: _Signals,
    seed: str,
    *,
    follow_up: bool = False,
) -> str:
    # A chat always awaits an answer: what it names, not `needs_response`, tells a remark.
    remark = signals.scores.get("issue", 0.0) > 0.0 or _caveat(signals.scores)
    if safety := _safety_body(signals):
        return _pick(replies.CHAT_BODY[safety], seed, "body")  # before anything else
    body_key = _precise(_body_key(intent, sentiment, remark, signals), signals.keys)
    if body_key in ("other_negative", "other_neutral"):
        # The buyer said what is wrong: never "tell us what happened". "Какой срок
        # годности?" is a question, not an expired item; "это подделка" is a claim.
        detail = _detail(signals.keys, intent)
        if EXPIRED.intersection(signals.keys) or (not signals.questions and detail == "expiry"):
            body_key = "expiry"
        elif detail == "authenticity":
            body_key = "authenticity"
    if follow_up and body_key not in ("expiry", "authenticity"):
        # After the seller's answer, a question is promised an answer ("we'll check"), a new
        # problem gets its own reply, anything else is seen ("we'll look"): the first answer
        # is never given again.
        if _chat_topic(signals) == "waiting":
            return _pick(replies.CHAT_QUESTION_BODY["waiting"], seed, "body")
        if body_key == "refund_awaited":
            pass  # "А когда придут деньги?" has its own answer
        elif signals.questions:
            body_key = "product_question"
        elif _best(signals.scores, _PROBLEMS)[1] < _FOLLOW_UP_PROBLEM_MIN:
            body_key = "follow_up"
    else:
        # What the buyer asks for or waits for comes before the topic the words suggest:
        # "Когда будет в наличии размер L?" is about stock, not a size that did not fit.
        if topic := _chat_topic(signals):
            return _pick(replies.CHAT_QUESTION_BODY[topic], seed, "body")
        if (
            body_key in _PARCEL_BODIES
            and signals.questions
            and sentiment != Sentiment.NEGATIVE
            and not _has_the_item(signals.keys)
        ):
            # "Вы можете сделать подарочную упаковку?", "Сколько стоит доставка?": asked
            # before a purchase, never met with a damaged parcel's answer.
            body_key = "product_question"
        elif body_key == "other_negative" and _content_words(signals.keys) >= _STATED_WORDS:
            # "Крем не подошёл, вызвал сухость кожи" already says what happened.
            body_key = "other_negative_stated"
        if body_key in ("other_neutral", "other_negative") and signals.questions:
            # Asked something ("Какой срок годности?"): "we'll check", not "how can we
            # help?" or "tell us what happened".
            body_key = "product_question"
        elif body_key == "other_neutral" and not _GREETING_RE.match(inp.text.strip()):
            body_key = "follow_up"  # said something: "we'll look into it", not "how can we help?"
    if body_key == "material_smell" and (detail := _detail(signals.keys, intent)):
        opener = _pick(replies.CHAT_DETAIL_OPENER, seed, "body")
        return f"{opener} {_pick(replies.DETAIL[detail], seed, 'detail', after=[opener])}"
    if body_key != "product_question":
        return _pick(replies.CHAT_BODY[body_key], seed, "body")
    if answer := _characteristic_answer(inp, seed):
        return answer
    topic = _question_topic(signals, inp.channel)
    options = replies.CHAT_QUESTION_BODY.get(topic or "") or replies.CHAT_BODY[body_key]
    return _pick(options, seed, "body")


def _chat_topic(signals: _Signals) -> str | None:
    """What a chat's first message asks for or complains of waiting for: "stock", "cancel"
    (asked, not reported: "заказ отменили" is news) or "waiting" (for the seller's answer)."""
    keys = set(signals.keys)
    if _asks_stock(signals):
        return "stock"
    if _size_topic(signals) == "size_given":
        return "size_given"  # "рост 170, вес 60": never "tell us your measurements"
    if keys & CANCEL_WORDS and keys & ASKING:
        return "cancel"
    if keys & WAITING_WORDS or (keys & ANSWER_WORDS and keys & WAITED):
        return "waiting"
    return None


def _asks_stock(signals: _Signals) -> bool:
    keys = set(signals.keys)
    return bool(keys & STOCK_WORDS) or bool(
        signals.questions and "есть" in keys and keys & VARIANT_WORDS
    )


def _size_topic(signals: _Signals) -> str | None:
    """A clothing size asked about or remarked on: "size_given" when the buyer wrote their
    measurements with numbers, else "size"."""
    keys = set(signals.keys)
    if not keys & CLOTHING_FIT:
        return None
    given = keys & MEASUREMENTS and any(key.isdigit() for key in keys)
    return "size_given" if given else "size"


def _question_topic(signals: _Signals, channel: str) -> str | None:
    """What a question the product card cannot answer is about: "stock" or (before a
    purchase, in the questions channel) "size" / "size_given", "delivery", "price" or
    "return"."""
    keys = set(signals.keys)
    if _asks_stock(signals):
        return "stock"
    if channel != Channel.QUESTION:
        return None
    if size := _size_topic(signals):
        return size
    for topic, topic_words in (
        ("delivery", DELIVERY_WORDS),
        ("price", PRICE_WORDS),
        ("return", RETURN_WORDS),
    ):
        if keys & topic_words:
            return topic
    return None


def _follow_up_draft(inp: AnalysisInput, turn: _Signals | None) -> str:
    """The next message of a chat the seller has answered: to the buyer's messages since
    (`turn`), or a check-in when the seller wrote last. No second greeting, and never the
    first answer again."""
    seed = inp.seed or inp.text
    name = greeting_name(inp.customer_name)
    if turn is None:
        body = _pick(replies.CHAT_BODY["check_in"], seed, "body")
    elif _thanks_only(turn):
        thanked = THANKS.intersection(turn.keys)
        body = _pick(replies.CHAT_BODY["closing" if thanked else "agreed"], seed, "body")
    elif _thanks(turn):
        body = _pick(replies.CHAT_BODY["return_under_way"], seed, "body")
    else:
        asked = replace(inp, text=inp.follow_up)
        view = _rule_view(turn, asked)
        sentiment, intent = Sentiment(view.sentiment), Intent(view.intent)
        body = _chat_body(asked, sentiment, intent, turn, seed, follow_up=True)
    return f"{name}, {body[0].lower()}{body[1:]}" if name else body


def _draft(
    inp: AnalysisInput,
    sentiment: Sentiment,
    intent: Intent,
    needs_response: bool,
    signals: _Signals,
) -> str:
    seed = inp.seed or inp.text
    name = greeting_name(inp.customer_name)
    if inp.channel == Channel.CHAT:
        greeting = _pick(
            replies.CHAT_GREETING_NAMED if name else replies.CHAT_GREETING_ANONYMOUS, seed, "g"
        ).format(name=name)
        return f"{greeting} {_chat_body(inp, sentiment, intent, signals, seed)}"
    brand = ""
    if inp.product_card:
        brand = " ".join(str(inp.product_card.get("brand") or "").split())
    if safety := _safety_body(signals):
        body_key, detail = safety, None
    elif inp.channel == Channel.QUESTION:
        # A question is answered as a question ("Какой состав ткани?"), never as a review
        # ("ваш отзыв поможет…"), unless it reports a problem ("Пришёл не тот цвет, что
        # делать?"), which gets that problem's answer.
        problem, strength = _best(signals.scores, _REPORTED)
        reported = (
            sentiment == Sentiment.NEGATIVE
            and strength >= _CONCRETE_MIN
            and _has_the_item(signals.keys)
        )
        body_key = _precise(problem.value, signals.keys) if reported else "product_question"
        detail = None
    else:
        body_key, detail = (
            _precise(_body_key(intent, sentiment, needs_response, signals), signals.keys),
            # A happy review is not told its aroma or expiry date will be checked.
            _detail(signals.keys, intent) if sentiment != Sentiment.POSITIVE else None,
        )
    answer = _characteristic_answer(inp, seed) if body_key == "product_question" else None
    forms = _product_forms(inp.product_name)
    greeting = _pick(
        replies.GREETING_NAMED if name else replies.GREETING_ANONYMOUS, seed, "g"
    ).format(name=name)
    silent = not (inp.text.strip() or inp.pros.strip() or inp.cons.strip())
    if inp.channel == Channel.QUESTION and body_key != "product_question":
        thanks_options = replies.THANKS_REPORTED
    elif body_key == "product_question":
        thanks_options = replies.THANKS_QUESTION
        if sentiment != Sentiment.NEGATIVE:
            thanks_options = (*thanks_options, *replies.THANKS_CHOOSING)
    elif silent:
        positive = sentiment == Sentiment.POSITIVE
        thanks_options = replies.THANKS_SILENT_POSITIVE if positive else replies.THANKS_SILENT
    elif sentiment == Sentiment.POSITIVE:
        thanks_options = replies.THANKS_POSITIVE
    elif sentiment == Sentiment.NEGATIVE:
        # The item did not disappoint a buyer who gave it 4★ or whose parcel was the problem.
        mild = (inp.rating or 0) >= 4 or intent == Intent.DELIVERY_PACKAGING
        thanks_options = replies.THANKS_PROBLEM if mild else replies.THANKS_NEGATIVE
        if len(words(f"{inp.text} {inp.pros} {inp.cons}")) >= _DETAILED_WORDS:
            thanks_options = (*thanks_options, *replies.THANKS_DETAILED)
    else:
        thanks_options = replies.THANKS_NEUTRAL
    sentences = [greeting, _pick(thanks_options, seed, "thanks").format(**forms)]
    topic = _question_topic(signals, inp.channel) if body_key == "product_question" else None
    if answer:
        sentences.append(answer)
    elif silent and body_key in ("other_negative", "other_neutral"):
        tone = "negative" if body_key == "other_negative" else "neutral"
        sentences.append(_pick(replies.SILENT_BODY[tone], seed, "body", after=sentences))
    elif topic:
        sentences.append(_pick(replies.QUESTION_BODY[topic], seed, "body", after=sentences))
    elif body_key == "praise" and (praised := _praised(signals.keys)):
        sentences.append(_pick(replies.PRAISE_DETAIL[praised], seed, "body", after=sentences))
    else:
        sentences.append(_pick(replies.BODY[body_key], seed, "body", after=sentences))
    if detail:
        sentences.append(_pick(replies.DETAIL[detail], seed, "detail", after=sentences))
    next_steps = replies.NEXT_STEP.get(detail or "") or replies.NEXT_STEP.get(body_key)
    asked = inp.channel == Channel.QUESTION and body_key == "product_question"
    if body_key == "product_question":
        wants_next_step = answer is not None
    elif silent:
        wants_next_step = False  # the body asked what went wrong
    elif body_key == Intent.DELIVERY_PACKAGING and INTACT.intersection(signals.keys):
        wants_next_step = False  # the box suffered, the item did not: nothing to return
    elif (
        sentiment == Sentiment.NEUTRAL
        and body_key == Intent.MATERIAL_SMELL
        and not replies.NEXT_STEP.get(detail or "")
    ):
        # "Вкусный, но на пончик не похож": a mixed review's remark on a kept item is not
        # invited to return it.
        wants_next_step = False
    else:
        # A question comes before the purchase: nothing to return, nothing to apologise for.
        wants_next_step = sentiment != Sentiment.POSITIVE and not asked
    if next_steps and wants_next_step:
        sentences.append(_pick(next_steps, seed, "next", after=sentences))
    if asked:
        closing_options = replies.CLOSING_NEUTRAL
    elif sentiment == Sentiment.POSITIVE:
        closing_options = replies.CLOSING_POSITIVE
    elif sentiment == Sentiment.NEGATIVE:
        closing_options = replies.CLOSING_NEGATIVE
    else:
        closing_options = replies.CLOSING_NEUTRAL
    sentences.append(_pick(closing_options, seed, "close", after=sentences))
    if brand:
        sentences.append(_pick(replies.BRAND_SIGNATURE, seed, "sign").format(brand=brand))
    return " ".join(sentences)
