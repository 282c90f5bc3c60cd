"""Cinder's extra-spec operators: how a volume type's value meets a capability.

``'<is> True'``, ``'== 10'`` (numbers), ``'>= 10'``, ``'<= 10'``, ``'!= 10'``,
``'= 10'`` (at least), ``'<in> ssd'`` (substring), ``'s== text'`` and the
other string comparisons, ``'<or> a <or> b'``; anything else is plain
equality.
"""

import operator
from typing import Any

from oslo_utils import strutils


def _is(value: Any, wanted: str) -> bool:
    return (strutils.bool_from_string(value) is
            strutils.bool_from_string(wanted))


_OPS = {
    '=': lambda x, y: float(x) >= float(y),
    '<in>': lambda x, y: y in str(x),
    '<is>': _is,
    '==': lambda x, y: float(x) == float(y),
    '!=': lambda x, y: float(x) != float(y),
    '>=': lambda x, y: float(x) >= float(y),
    '<=': lambda x, y: float(x) <= float(y),
    's==': lambda x, y: str(x) == y,
    's!=': lambda x, y: str(x) != y,
    's<': lambda x, y: operator.lt(str(x), y),
    's<=': lambda x, y: operator.le(str(x), y),
    's>': lambda x, y: operator.gt(str(x), y),
    's>=': lambda x, y: operator.ge(str(x), y),
}


def _any_of(value: Any, words: list[str]) -> bool:
    """``<or> a <or> b``: the words between the <or> keywords."""
    return str(value) in words[::2]


def match(value: Any, requirement: str) -> bool:
    """Whether a reported capability ``value`` meets ``requirement``."""
    words = requirement.split()
    op = words.pop(0) if words else None
    if op != '<or>' and op not in _OPS:
        # NOTE: Cinder compares as is; a JSON true or a number reported by
        # a driver also matches its text ("True", "10").
        return value == requirement or str(value) == requirement
    if value is None or not words:
        return False
    if op == '<or>':
        return _any_of(value, words)
    try:
        return _OPS[op](value, words[0])
    except (TypeError, ValueError):
        return False
