"""RFC 8785 JSON Canonicalization Scheme (JCS), written from the RFC.

Every hash in a flightrec record is taken over JCS text, so this module must
produce byte-for-byte what the RFC prescribes: object members sorted by their
UTF-16 code units, no white space, strings with the minimal escapes, and
numbers printed the way ECMAScript prints a double.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Dict, List, Tuple

from .errors import VerificationError

# The standard library's string encoder escapes exactly what RFC 8785 §3.2.2.2
# asks for: `"` and `\`, \b \f \n \r \t by name, other controls as \u00xx
# (lower-case hex), and nothing else once ensure_ascii is off.
_encode_string: Callable[[str], str] = getattr(json.encoder, "encode_basestring")

_MAX_SAFE_INTEGER = 2**53


def canonicalize(value: Any) -> bytes:
    """The JCS text of a JSON value (as `json.loads` returns it), UTF-8 encoded."""
    parts: List[str] = []
    _write(value, parts)
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        # json.loads lets a lone surrogate (`"\ud800"`) through; it has no
        # UTF-8 form, and RFC 8785 §3.2.2.2 requires such data to be refused.
        raise VerificationError("the JSON holds a lone surrogate, which JCS cannot encode") from exc


def canonicalize_plain(value: Any) -> bytes:
    """JCS of a value known to hold no float, no integer beyond ±2^53 and no
    object key with a character above U+FFFF (`record.parse_json` tells which).

    For such values JCS is exactly what the C-accelerated json.dumps writes
    with sorted keys, no spaces and no ASCII escaping: integers print alike,
    strings escape alike, and code-point order is UTF-16 order without
    supplementary characters. It is several times faster than `canonicalize`.
    """
    try:
        return _dumps_plain(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise VerificationError("the JSON holds a lone surrogate, which JCS cannot encode") from exc


_dumps_plain: Callable[[Any], str] = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
).encode


def _write(value: Any, out: List[str]) -> None:
    # bool before int: True is an int in Python.
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_string(value))
    elif isinstance(value, int):
        out.append(_integer(value))
    elif isinstance(value, float):
        out.append(number_to_string(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, member in _sorted_members(value):
            if not first:
                out.append(",")
            first = False
            out.append(_encode_string(key))
            out.append(":")
            _write(member, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise VerificationError(f"JCS cannot encode a value of type {type(value).__name__}")


def _sorted_members(obj: Dict[Any, Any]) -> List[Tuple[str, Any]]:
    for key in obj:
        if not isinstance(key, str):
            raise VerificationError(f"JCS object keys must be strings, not {type(key).__name__}")
    # Code-point order equals UTF-16 code-unit order unless a key holds a
    # character above U+FFFF; ASCII keys (all of a header's) take the fast path.
    if all(key.isascii() for key in obj):
        return sorted(obj.items())
    return sorted(obj.items(), key=lambda item: item[0].encode("utf-16-be"))


def _integer(value: int) -> str:
    # JSON numbers are IEEE-754 doubles (RFC 8785 §3.2.2.3): an integer beyond
    # 2^53 is printed as the double it becomes, as ECMAScript would.
    if -_MAX_SAFE_INTEGER <= value <= _MAX_SAFE_INTEGER:
        return str(value)
    try:
        return number_to_string(float(value))
    except OverflowError as exc:
        raise VerificationError(f"the integer {value} is too large for an IEEE-754 double") from exc


def number_to_string(value: float) -> str:
    """ECMAScript's Number.prototype.toString for a finite double (ECMA-262 Number::toString)."""
    if math.isnan(value) or math.isinf(value):
        raise VerificationError("JCS cannot encode NaN or Infinity")
    if value == 0:
        return "0"  # also -0
    if value < 0:
        return "-" + number_to_string(-value)
    digits, n = _shortest_digits(value)
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exponent = n - 1
    sign = "+" if exponent >= 0 else "-"
    mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{mantissa}e{sign}{abs(exponent)}"


def _shortest_digits(value: float) -> Tuple[str, int]:
    """The digits s and exponent n of ECMA-262: value = 0.s × 10^n, s as short as possible.

    Python's repr is the shortest string that reads back as the same double
    (with correct rounding), the same digits ECMAScript chooses.
    """
    text = repr(value)
    mantissa, _, exp_part = text.partition("e")
    exponent = int(exp_part) if exp_part else 0
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # position of the decimal point relative to the first significant digit
    n = len(whole) + exponent
    if whole.strip("0") == "":
        # 0.000123 -> whole "0", fraction "000123"
        n = exponent - (len(fraction) - len(fraction.lstrip("0")))
    digits = digits.rstrip("0")
    return digits, n
