import base64
import json
from datetime import UTC, datetime

import pytest

from connectors.exceptions import AuthError
from connectors.simulator.tokens import make_wb_token
from connectors.wb.token import InvalidWBToken, TokenType, decode_token


def _jwt(payload: object) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join(
        (part(b'{"alg":"ES256","typ":"JWT"}'), part(json.dumps(payload).encode()), part(b"sig"))
    )


@pytest.mark.parametrize(
    ("token_type", "expected"),
    [
        ("base", TokenType.BASE),
        ("test", TokenType.TEST),
        ("personal", TokenType.PERSONAL),
        ("service", TokenType.SERVICE),
    ],
)
def test_decode_token_reads_the_token_type(token_type: str, expected: TokenType) -> None:
    token = make_wb_token(seller_id="seller-1", token_type=token_type)

    assert decode_token(token).token_type == expected


def test_decode_token_reads_categories_expiry_and_seller() -> None:
    expires_at = datetime(2031, 5, 17, 12, 0, tzinfo=UTC)
    token = make_wb_token(
        seller_id="5f1c2d3e-0000-4000-8000-000000000001",
        categories=(1, 7, 9),
        expires_at=expires_at,
    )

    decoded = decode_token(token)

    assert decoded.categories == frozenset({1, 7, 9})
    assert decoded.is_read_only is False
    assert decoded.expires_at == expires_at
    assert decoded.seller_id == "5f1c2d3e-0000-4000-8000-000000000001"
    assert decoded.has_category(7) is True
    assert decoded.has_category(6) is False


def test_decode_token_reads_the_read_only_bit_apart_from_categories() -> None:
    token = make_wb_token(seller_id="s", categories=(7,), read_only=True)

    decoded = decode_token(token)

    assert decoded.is_read_only is True
    assert decoded.categories == frozenset({7})


def test_decode_token_uses_one_based_bit_positions() -> None:
    # s = 0b1_0100_0001: bits 1, 7 and 9 (1-based) are set.
    decoded = decode_token(_jwt({"s": 0b101000001, "acc": 4, "exp": 1_900_000_000, "sid": "x"}))

    assert decoded.categories == frozenset({1, 7, 9})
    assert decoded.token_type == TokenType.SERVICE


def test_decode_token_tolerates_a_token_without_type_and_expiry() -> None:
    decoded = decode_token(_jwt({"s": 64, "sid": "x"}))

    assert (decoded.token_type, decoded.expires_at, decoded.categories) == (
        TokenType.UNKNOWN,
        None,
        frozenset({7}),
    )


def test_decoded_token_knows_when_it_has_expired() -> None:
    token = make_wb_token(seller_id="s", expires_at=datetime(2030, 1, 1, tzinfo=UTC))

    decoded = decode_token(token)

    assert decoded.is_expired(now=datetime(2029, 12, 31, tzinfo=UTC)) is False
    assert decoded.is_expired(now=datetime(2030, 1, 1, tzinfo=UTC)) is True


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not-a-token",
        "only.two",
        "a.!!!notbase64!!!.c",
        _jwt(["a", "list"]),
        _jwt({"s": "64", "acc": 3}),
        _jwt({"s": 64, "acc": "3"}),
        _jwt({"s": 64, "exp": "tomorrow"}),
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
    ],
)
def test_decode_token_refuses_what_is_not_a_wb_jwt(token: str) -> None:
    with pytest.raises(InvalidWBToken) as raised:
        decode_token(token)

    assert isinstance(raised.value, AuthError)
    assert raised.value.code == "invalid_token"
