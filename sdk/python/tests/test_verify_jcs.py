"""RFC 8785 (JCS) against the RFC's own examples and, where Node is installed,
against V8's number printing and UTF-16 sort (an independent implementation)."""

from __future__ import annotations

import json
import random
import shutil
import struct
import subprocess

import pytest

from flightrec.verify import VerificationError, canonicalize
from flightrec.verify.jcs import number_to_string


def test_rfc8785_section_3_2_3_example() -> None:
    text = (
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonicalize(json.loads(text)) == expected.encode("utf-8")


def test_rfc8785_sorts_members_by_utf16_code_units() -> None:
    # RFC 8785 §3.2.3's sorting example: the emoji (a surrogate pair, 0xD83D…)
    # sorts before U+FB33, though its code point is larger.
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    order = list(json.loads(canonicalize(value)))
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


# RFC 8785 Appendix B: IEEE-754 bit patterns and how ECMAScript prints them.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(bits: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(bits))[0]
    return value


@pytest.mark.parametrize("bits, expected", APPENDIX_B)
def test_rfc8785_appendix_b_numbers(bits: str, expected: str) -> None:
    assert number_to_string(_double(bits)) == expected


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinity_are_refused(bits: str) -> None:
    with pytest.raises(VerificationError, match="NaN or Infinity"):
        number_to_string(_double(bits))


def test_integers_beyond_2_53_print_as_the_double_they_are() -> None:
    # What the server stores for 12345678901234567890 (seen in a real export).
    assert canonicalize(12345678901234567890) == b"12345678901234567000"
    assert canonicalize(2**53) == b"9007199254740992"
    assert canonicalize([1.0, -0.0, 100.0, 1e21, 1e-7]) == b"[1,0,100,1e+21,1e-7]"


def test_strings_escape_only_what_the_rfc_asks() -> None:
    assert canonicalize("\u007f\u2028/\u00e9\U0001f600\x1f\b") == '"\u007f\u2028/\u00e9\U0001f600\\u001f\\b"'.encode()


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(VerificationError, match="lone surrogate"):
        canonicalize(json.loads('"\\ud800"'))


NODE = shutil.which("node")


@pytest.mark.skipif(NODE is None, reason="node is not installed: no second implementation to compare with")
def test_numbers_and_key_order_match_v8() -> None:
    rng = random.Random(20)
    values = []
    while len(values) < 20000:
        value = _double(f"{rng.getrandbits(64):016x}")
        if value == value and abs(value) != float("inf"):
            values.append(value)
    values += [rng.uniform(-1e6, 1e6) for _ in range(2000)] + [rng.randint(-(2**60), 2**60) * 1.0 for _ in range(2000)]
    alphabet = ["a", "Z", "\u00e9", "\u20ac", "\ufb33", "\uffee", "\U0001f600", "\U00010437", "\r", "1"]
    keys = sorted({"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4))) for _ in range(300)})
    script = (
        "const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const numbers = input.bits.map(h => JSON.stringify(Buffer.from(h, 'hex').readDoubleBE(0)));"
        "console.log(JSON.stringify({numbers, keys: input.keys.slice().sort()}));"
    )
    payload = {"bits": [struct.pack(">d", v).hex() for v in values], "keys": keys}
    assert NODE is not None
    result = subprocess.run([NODE, "-e", script], input=json.dumps(payload), capture_output=True, text=True, check=True)
    v8 = json.loads(result.stdout)
    mismatches = [(v, number_to_string(v), w) for v, w in zip(values, v8["numbers"]) if number_to_string(v) != w]
    assert mismatches == []
    assert list(json.loads(canonicalize({k: 0 for k in keys}))) == v8["keys"]


def _random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(2**60), 2**60) if rng.random() < 0.3 else rng.randint(-1000, 1000)
    if kind == 2:
        return rng.uniform(-1e25, 1e25) if rng.random() < 0.5 else rng.random() / 10**rng.randint(0, 10)
    if kind in (3, 4):
        return "".join(rng.choice(["a", "\u00e9", "\n", "\x01", '"', "\\", "\u2028", "\ufb33", "\U0001f600"]) for _ in range(rng.randint(0, 6)))
    if kind == 5:
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["a", "B", "\u00e9", "\ufb33", "\U0001f600", "\r", "10", "1"]
    return {rng.choice(keys) + rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def test_the_fast_path_is_taken_only_where_it_equals_the_rfc() -> None:
    from flightrec.verify.jcs import canonicalize_plain
    from flightrec.verify.record import JsonReader

    reader = JsonReader()
    rng = random.Random(8785)
    plain_seen = 0
    for _ in range(3000):
        value = _random_value(rng)
        parsed = reader.read(json.dumps(value))
        assert canonicalize(parsed.value) == canonicalize(value)
        if parsed.plain:
            plain_seen += 1
            assert canonicalize_plain(parsed.value) == canonicalize(value)
    assert plain_seen > 300
    assert reader.read('{"a": 1, "b": [2, "x"]}').plain
    assert not reader.read('{"a": [1.5]}').plain
    assert not reader.read('{"a": 9007199254740993}').plain
    assert not reader.read('{"\\ud83d\\ude00": 1, "\\ufb33": 2}').plain
    with pytest.raises(VerificationError, match="repeats the key 'a'"):
        reader.read('{"a": 1, "b": {"a": 2, "a": 3}}')
    with pytest.raises(VerificationError, match="NaN"):
        reader.read('{"a": NaN}')
