"""Deterministic Russian demo data for the simulator: products, reviews, questions, chats.

Review texts come from ``shared/data/reviews.csv`` when that file exists (read in place at run time,
never copied: its licence forbids redistribution): a product gets the texts that speak of its kind of
goods (``TEXT_TOPICS``), so a mug is never praised as a speaker. Products whose kind has too few
such texts, and every product when the file is missing, get texts composed from the small phrase
templates below. Everything else is generated from ``random.Random`` seeded per account and channel.
"""

from __future__ import annotations

import csv
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
REVIEWS_CSV_CANDIDATES = (
    Path("/work/shared/data/reviews.csv"),
    REPO_ROOT / ".." / "shared" / "data" / "reviews.csv",
)

ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
HEX = "0123456789abcdef"


@dataclass(frozen=True, slots=True)
class Category:
    subject_id: int
    subject_name: str
    root_id: int
    root_name: str
    names: tuple[str, ...]
    sizes: tuple[tuple[str, str], ...]  # (techSize, wbSize)
    materials: tuple[str, ...]
    code: str
    has_size_fit: bool
    price_range: tuple[int, int]


CATEGORIES: tuple[Category, ...] = (
    Category(
        192,
        "Футболки",
        1,
        "Одежда",
        ("Футболка оверсайз хлопок", "Футболка базовая женская", "Футболка мужская с принтом"),
        (("S", "44"), ("M", "46"), ("L", "48"), ("XL", "50")),
        ("хлопок 100%", "хлопок 95%, эластан 5%"),
        "TS",
        True,
        (590, 1890),
    ),
    Category(
        41,
        "Рубашки и блузки",
        1,
        "Одежда",
        ("Рубашка женская оверсайз", "Блузка шифоновая с бантом", "Рубашка льняная"),
        (("42", "42"), ("44", "44"), ("46", "46"), ("48", "48")),
        ("хлопок 100%", "вискоза 70%, полиэстер 30%", "лён 100%"),
        "SH",
        True,
        (1290, 3990),
    ),
    Category(
        105,
        "Кроссовки",
        2,
        "Обувь",
        ("Кроссовки беговые мужские", "Кроссовки женские на платформе", "Кеды текстильные"),
        (("38", "38"), ("39", "39"), ("40", "40"), ("41", "41"), ("42", "42"), ("43", "43")),
        ("текстиль", "искусственная кожа"),
        "SN",
        True,
        (2290, 6990),
    ),
    Category(
        469,
        "Куртки",
        1,
        "Одежда",
        ("Куртка демисезонная мужская", "Пуховик женский удлинённый", "Ветровка с капюшоном"),
        (("M", "48"), ("L", "50"), ("XL", "52"), ("XXL", "54")),
        ("полиэстер 100%", "нейлон, утеплитель биопух"),
        "JK",
        True,
        (3490, 12990),
    ),
    Category(
        2817,
        "Умные колонки",
        4,
        "Электроника",
        ("Умная колонка с голосовым помощником", "Умная колонка мини", "Портативная колонка"),
        (("0", ""),),
        ("пластик ABS", "ткань, пластик"),
        "SP",
        False,
        (990, 5990),
    ),
    Category(
        1302,
        "Чехлы для телефонов",
        4,
        "Электроника",
        ("Чехол силиконовый для iPhone 15", "Чехол-книжка для Samsung A54", "Чехол противоударный"),
        (("0", ""),),
        ("силикон", "полиуретан"),
        "CS",
        False,
        (290, 990),
    ),
    Category(
        4087,
        "Кружки",
        5,
        "Дом",
        ("Кружка керамическая 350 мл", "Термокружка из нержавеющей стали", "Набор кружек 2 шт"),
        (("0", ""),),
        ("керамика", "нержавеющая сталь"),
        "MG",
        False,
        (390, 1490),
    ),
    Category(
        1650,
        "Кремы для лица",
        6,
        "Красота",
        ("Крем для лица увлажняющий", "Крем ночной с ретинолом", "Крем SPF 50 для лица"),
        (("0", ""),),
        ("гиалуроновая кислота", "масло ши"),
        "CR",
        False,
        (490, 2490),
    ),
    Category(
        2956,
        "Мука",
        7,
        "Продукты",
        ("Мука пшеничная цельнозерновая 1 кг", "Мука рисовая без глютена", "Мука ржаная обдирная"),
        (("0", ""),),
        ("пшеница", "рис"),
        "FL",
        False,
        (120, 390),
    ),
    Category(
        3340,
        "Мягкие игрушки",
        8,
        "Игрушки",
        ("Мягкая игрушка Медведь 40 см", "Игрушка-обнимашка Кот батон", "Мягкая игрушка Лисёнок"),
        (("0", ""),),
        ("плюш, синтепон",),
        "TY",
        False,
        (490, 1990),
    ),
)

BRANDS = (
    "Северный лён",
    "NordWind",
    "Домашний уют",
    "Лесная сказка",
    "UrbanStep",
    "СоюзТекстиль",
    "Кедр",
    "Аврора",
    "TechLine",
    "Малиновка",
    "Полярис Хоум",
    "Весна",
)
SUPPLIER_NAMES = (
    "ИП Смирнова А. В.",
    "ООО Северный ветер",
    "ООО Торговый дом Кедр",
    "ИП Волков Д. С.",
)
COLORS = (
    "черный",
    "белый",
    "бежевый",
    "синий",
    "серый",
    "зеленый",
    "красный",
    "розовый",
    "молочный",
)
COUNTRIES = ("Россия", "Китай", "Турция", "Узбекистан", "Беларусь")
FIRST_NAMES = (
    "Марина",
    "Ольга",
    "Анна",
    "Екатерина",
    "Наталья",
    "Ирина",
    "Светлана",
    "Елена",
    "Дарья",
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Максим",
    "Иван",
    "Татьяна",
    "Юлия",
    "Виктория",
    "Павел",
    "Михаил",
    "Ксения",
    "Полина",
    "Артём",
    "Никита",
    "Людмила",
)
BABLES = (
    "цена",
    "качество",
    "внешний вид",
    "размер",
    "доставка",
    "упаковка",
    "удобство",
    "материал",
)

PROS_BY_RATING: dict[int, tuple[str, ...]] = {
    5: (
        "Отличное качество",
        "Цвет как на фото",
        "Быстрая доставка",
        "Хорошая упаковка",
        "Удобно и практично",
        "Цена соответствует качеству",
        "Всё понравилось",
    ),
    4: (
        "Хорошее качество за свои деньги",
        "Приятный материал",
        "Соответствует описанию",
        "Удобный",
    ),
    3: ("Цена", "Внешний вид неплохой", "Доставили вовремя"),
    2: ("Красивая упаковка", "Недорого"),
    1: ("Нет", "Быстро привезли"),
}
CONS_BY_RATING: dict[int, tuple[str, ...]] = {
    5: ("Нет", "Не обнаружено"),
    4: ("Немного маломерит", "Запах в первые дни", "Долгая доставка"),
    3: ("Садится после стирки", "Швы неровные", "Цвет отличается от фото"),
    2: ("Качество ниже ожидаемого", "Брак на изделии", "Маломерит на размер"),
    1: ("Пришёл брак", "Не соответствует описанию", "Сломалось через день", "Пришёл не тот товар"),
}
TEXT_OPENINGS: dict[int, tuple[str, ...]] = {
    5: (
        "Очень довольна покупкой!",
        "Всё отлично, рекомендую.",
        "Заказываю уже второй раз.",
        "Превзошло ожидания.",
    ),
    4: ("В целом хорошо.", "Неплохой товар за свою цену.", "Покупкой довольна, но есть нюансы."),
    3: ("Средне.", "Ожидала большего.", "Товар так себе, но пользоваться можно."),
    2: ("Разочарована.", "Качество не радует.", "Не советую."),
    1: ("Ужасно.", "Деньги на ветер.", "Никому не советую.", "Оформила возврат."),
}
TEXT_DETAILS: dict[int, tuple[str, ...]] = {
    5: (
        "{name} выглядит как на фото, материал приятный.",
        "Размер подошёл идеально.",
        "Упаковано аккуратно, доставка быстрая.",
    ),
    4: (
        "{name} хороший, но доставка задержалась на пару дней.",
        "Немного не тот оттенок.",
        "Есть небольшой запах, выветрился за день.",
    ),
    3: (
        "{name} в жизни выглядит проще.",
        "После первой стирки появились катышки.",
        "Инструкции в комплекте нет.",
    ),
    2: ("{name} пришёл с дефектом.", "Швы кривые, торчат нитки.", "Размер меньше заявленного."),
    1: ("{name} сломался через неделю.", "Прислали совсем другой цвет.", "Коробка была вскрыта."),
}
QUESTION_TEMPLATES = (
    "Подскажите, {name} подойдёт на рост 182 см?",
    "Какой размер брать при обхвате груди 96 см?",
    "Есть ли гарантия на {name_lower}?",
    "Будет ли в наличии цвет {color}?",
    "Из какого материала сделан товар? Нет ли запаха?",
    "Можно ли стирать в машинке при 40 градусах?",
    "Какая длина по спинке у размера {size}?",
    "Подскажите, это оригинал? Есть сертификат?",
    "Сколько дней идёт доставка до Екатеринбурга?",
    "Идёт ли в комплекте коробка для подарка?",
)
QUESTION_ANSWERS = (
    "Здравствуйте! Да, подойдёт, размерная сетка есть в карточке товара.",
    "Добрый день! Гарантия 12 месяцев, чек сохраняется в личном кабинете.",
    "Здравствуйте! Поступление ожидаем в течение двух недель.",
)
# A buyer's first message and the seller's answer to it.
CHAT_OPENINGS: tuple[tuple[str, str], ...] = (
    (
        "Здравствуйте! Пришёл товар с затяжкой на рукаве. Что делать?",
        "Здравствуйте! Очень жаль. Оформите, пожалуйста, возврат с пометкой «брак» — деньги "
        "вернутся полностью.",
    ),
    (
        "Добрый день, подскажите, когда будет отправлен мой заказ?",
        "Добрый день! Заказ передан в доставку, ожидайте в течение 3–5 дней.",
    ),
    (
        "Здравствуйте, не подошёл размер, можно обменять?",
        "Здравствуйте! Обмен оформляется через возврат и новый заказ нужного размера.",
    ),
    (
        "Добрый вечер! В посылке не хватает одного предмета из комплекта.",
        "Приносим извинения! Пришлите, пожалуйста, фото содержимого посылки — отправим "
        "недостающее.",
    ),
    (
        "Здравствуйте, как правильно ухаживать за изделием?",
        "Спасибо за обращение! Рекомендуем деликатную стирку при 30 °C.",
    ),
    (
        "Здравствуйте! Товар пришёл с другим цветом, не как на фото.",
        "Приносим извинения, пришлите, пожалуйста, фото товара — заменим его или вернём деньги.",
    ),
)
CHAT_CLIENT_OPENINGS = tuple(opening for opening, _answer in CHAT_OPENINGS)
CHAT_CLIENT_FOLLOWUPS = (
    "Спасибо, поняла.",
    "Хорошо, сделаю фото и пришлю.",
    "А сроки возврата денег какие?",
    "Оформила возврат, спасибо!",
    "Можно ли получить скидку вместо возврата?",
    "Жду ответа.",
)
CHAT_SELLER_FOLLOWUPS = (
    "Спасибо, что написали! Если появятся вопросы — мы на связи.",
    "Деньги за возврат приходят в течение 10 дней после того, как товар примут на складе.",
    "Хорошо, ждём и сразу ответим.",
)


def chat_turns(rng: random.Random, turns: int, category: Category | None = None) -> list[str]:
    """The texts of a chat's first `turns` messages, buyer first, each side in turn: the
    seller answers the buyer's first message, then the talk goes on in general terms."""
    opening = rng.choice(
        fitting(category, CHAT_CLIENT_OPENINGS) if category else CHAT_CLIENT_OPENINGS
    )
    texts = [opening, dict(CHAT_OPENINGS)[opening]]
    while len(texts) < turns:
        texts.append(
            rng.choice(CHAT_CLIENT_FOLLOWUPS if len(texts) % 2 == 0 else CHAT_SELLER_FOLLOWUPS)
        )
    return texts[:turns]


def random_id(rng: random.Random, length: int = 20) -> str:
    return "".join(rng.choices(ID_ALPHABET, k=length))


def random_hex(rng: random.Random, length: int = 32) -> str:
    return "".join(rng.choices(HEX, k=length))


def random_uuid(rng: random.Random) -> str:
    h = random_hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def slugify(text: str) -> str:
    table = str.maketrans(
        {
            "а": "a",
            "б": "b",
            "в": "v",
            "г": "g",
            "д": "d",
            "е": "e",
            "ё": "e",
            "ж": "zh",
            "з": "z",
            "и": "i",
            "й": "j",
            "к": "k",
            "л": "l",
            "м": "m",
            "н": "n",
            "о": "o",
            "п": "p",
            "р": "r",
            "с": "s",
            "т": "t",
            "у": "u",
            "ф": "f",
            "х": "h",
            "ц": "c",
            "ч": "ch",
            "ш": "sh",
            "щ": "sch",
            "ъ": "",
            "ы": "y",
            "ь": "",
            "э": "e",
            "ю": "yu",
            "я": "ya",
        }
    )
    return re.sub(r"[^a-z0-9]+", "-", text.lower().translate(table)).strip("-")


def basket_host_number(nm_id: int) -> int:
    """Host number NN of basket-NN.wbbasket.ru for an nmId (table in wb-product-card.md)."""
    vol = nm_id // 100_000
    upper_bounds = (143, 287, 431, 719, 1007, 1061, 1115, 1169, 1313, 1601, 1655, 1919, 2045, 2189)
    for index, upper in enumerate(upper_bounds, start=1):
        if vol <= upper:
            return index
    return 15 + (vol - 2190) // 216


def basket_host(nm_id: int) -> str:
    return f"basket-{basket_host_number(nm_id):02d}.wbbasket.ru"


def card_base_path(nm_id: int) -> str:
    return f"/vol{nm_id // 100_000}/part{nm_id // 1000}/{nm_id}"


@dataclass(frozen=True, slots=True)
class Product:
    nm_id: int
    imt_id: int
    nm_uuid: str
    category: Category
    title: str
    brand: str
    vendor_code: str
    supplier_name: str
    color: str
    material: str
    country: str
    description: str
    sizes: tuple[tuple[int, str, str, str], ...]  # (chrtID, techSize, wbSize, barcode)
    photo_count: int
    created_us: int
    updated_us: int
    need_kiz: bool
    price: int

    def photo_urls(self) -> list[dict[str, str]]:
        base = f"https://{basket_host(self.nm_id)}{card_base_path(self.nm_id)}/images"
        return [
            {
                kind: f"{base}/{kind}/{i}.webp"
                for kind in ("big", "c246x328", "c516x688", "square", "tm")
            }
            for i in range(1, self.photo_count + 1)
        ]


def make_products(rng: random.Random, count: int, *, now_us: int) -> list[Product]:
    products: list[Product] = []
    nm_base = rng.randrange(150_000_000, 450_000_000)
    imt_base = rng.randrange(100_000_000, 300_000_000)
    day_us = 86_400 * 1_000_000
    for index in range(count):
        category = CATEGORIES[index % len(CATEGORIES)]
        nm_base += rng.randrange(7, 977)
        nm_id = nm_base
        title = rng.choice(category.names)
        color = rng.choice(COLORS)
        material = rng.choice(category.materials)
        chrt_base = rng.randrange(100_000_000, 900_000_000)
        sizes = tuple(
            (chrt_base + n, tech, wb, f"20{rng.randrange(10**10, 10**11)}")
            for n, (tech, wb) in enumerate(category.sizes)
        )
        created_us = now_us - rng.randrange(60, 400) * day_us
        updated_us = created_us + rng.randrange(1, 50) * day_us + index
        products.append(
            Product(
                nm_id=nm_id,
                imt_id=imt_base + index // 2,
                nm_uuid=random_uuid(rng),
                category=category,
                title=title,
                brand=rng.choice(BRANDS),
                vendor_code=f"{category.code}-{slugify(color)[:3].upper()}-{index:03d}",
                supplier_name=rng.choice(SUPPLIER_NAMES),
                color=color,
                material=material,
                country=rng.choice(COUNTRIES),
                description=f"{title}. Материал: {material}. Цвет: {color}. Подходит для ежедневного использования.",
                sizes=sizes,
                photo_count=0 if index % 17 == 16 else rng.randrange(1, 7),
                created_us=created_us,
                updated_us=updated_us,
                need_kiz=category.root_id == 1 and rng.random() < 0.3,
                price=rng.randrange(*category.price_range),
            )
        )
    return products


# The kinds of goods that reviews.csv speaks of, by the words a text must contain (lower case),
# and the categories that take their texts. A text that names two kinds is left out.
TEXT_TOPICS: dict[str, re.Pattern[str]] = {
    # The clothing reviews of reviews.csv are of shirts and blouses, so only those take them.
    "shirts": re.compile(r"рубаш|блуз"),
    "speaker": re.compile(r"колонк|\bалис[аеуы]\b"),
    "face_cream": re.compile(r"\bкрем|сыворотк|увлажн|для лица"),
    "flour": re.compile(r"\bмук(?:а|и|у|ой|е)\b|выпечк|испечь|испекл"),
}
CATEGORY_TOPICS: dict[str, str] = {
    "SH": "shirts",
    "SP": "speaker",
    "CR": "face_cream",
    "FL": "flour",
}
# Fewer texts than this for a kind and a rating: composed texts instead (no repetition loops).
MIN_TOPIC_TEXTS = 5
# Template phrases that only make sense for something worn.
WEARABLE_ONLY = frozenset(
    {
        "Размер подошёл идеально.",
        "После первой стирки появились катышки.",
        "Швы кривые, торчат нитки.",
        "Размер меньше заявленного.",
        "Немного маломерит",
        "Садится после стирки",
        "Швы неровные",
        "Маломерит на размер",
        "Подскажите, {name} подойдёт на рост 182 см?",
        "Какой размер брать при обхвате груди 96 см?",
        "Можно ли стирать в машинке при 40 градусах?",
        "Какая длина по спинке у размера {size}?",
        "Здравствуйте! Пришёл товар с затяжкой на рукаве. Что делать?",
        "Здравствуйте, не подошёл размер, можно обменять?",
        "Здравствуйте, как правильно ухаживать за изделием?",
    }
)


def fitting(category: Category, phrases: Sequence[str]) -> Sequence[str]:
    """The template phrases that suit a product of `category`."""
    if category.has_size_fit:
        return phrases
    return [phrase for phrase in phrases if phrase not in WEARABLE_ONLY] or phrases


def text_topic(text: str) -> str | None:
    """The one kind of goods a review text speaks of, if exactly one."""
    lowered = text.lower()
    topics = [name for name, pattern in TEXT_TOPICS.items() if pattern.search(lowered)]
    return topics[0] if len(topics) == 1 else None


@lru_cache(maxsize=1)
def _csv_texts() -> dict[tuple[str, int], tuple[str, ...]] | None:
    """reviews.csv texts by (kind of goods, rating), or None without the file."""
    for candidate in REVIEWS_CSV_CANDIDATES:
        if candidate.is_file():
            by_topic: dict[tuple[str, int], list[str]] = {}
            with candidate.open(encoding="utf-8", newline="") as handle:
                for row in csv.DictReader(handle):
                    try:
                        rating = int(row["rating"])
                    except (KeyError, ValueError):
                        continue
                    text = (row.get("text") or "").strip()
                    topic = text_topic(text) if 1 <= rating <= 5 and text else None
                    if topic is not None:
                        by_topic.setdefault((topic, rating), []).append(text)
            logger.info(
                "Simulator review texts loaded",
                extra={"rows": sum(map(len, by_topic.values()))},
            )
            return {
                key: tuple(texts)
                for key, texts in by_topic.items()
                if len(texts) >= MIN_TOPIC_TEXTS
            }
    logger.info("Simulator review texts composed from templates")
    return None


class TextSource:
    """Picks review texts matching a product and a star rating."""

    def __init__(self) -> None:
        self._csv = _csv_texts()

    @property
    def uses_csv(self) -> bool:
        return self._csv is not None

    def review_text(self, rng: random.Random, rating: int, product: Product) -> str:
        topic = CATEGORY_TOPICS.get(product.category.code)
        texts = self._csv.get((topic, rating)) if self._csv is not None and topic else None
        if texts:
            return rng.choice(texts)
        opening = rng.choice(TEXT_OPENINGS[rating])
        detail = rng.choice(fitting(product.category, TEXT_DETAILS[rating]))
        return f"{opening} {detail.format(name=product.title)}"


def pick_rating(rng: random.Random) -> int:
    # Marketplace ratings skew high: roughly 55% five stars, 8% one star.
    return rng.choices((5, 4, 3, 2, 1), weights=(55, 18, 10, 9, 8))[0]


def pick(rng: random.Random, options: Sequence[str]) -> str:
    return rng.choice(options)
