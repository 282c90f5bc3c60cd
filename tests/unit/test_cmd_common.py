"""The console scripts' shared option parsing."""

import pytest

from scheduler_worker.cmd import common


def test_key_values_splits_at_the_first_equals_sign():
    assert common.key_values(['a=1', 'b=x=y', 'c='], '--metadata') == {
        'a': '1', 'b': 'x=y', 'c': ''}


def test_key_values_of_nothing_is_empty():
    assert common.key_values(None, '--metadata') == {}


@pytest.mark.parametrize('pair', ['novalue', '=value'])
def test_key_values_refuses_a_pair_without_key_or_sign(pair):
    expected = "--capability takes KEY=VALUE, not '%s'" % pair
    with pytest.raises(SystemExit, match=expected):
        common.key_values(['ok=1', pair], '--capability')
