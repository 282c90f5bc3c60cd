"""Log level requests: read strictly, applied to this process's loggers."""

import logging

import pytest

from scheduler_worker import admin  # noqa: F401 (a logger of ours)
from scheduler_worker import exception
from scheduler_worker import log_levels
from scheduler_worker.objects import primitives


def _cinder(prefix, level, name='LogLevel', version='1.0', namespace='cinder'):
    """A log_request as the serializer hands Cinder's LogLevel over."""
    return primitives.Primitive.of({
        'versioned_object.name': name,
        'versioned_object.namespace': namespace,
        'versioned_object.version': version,
        'versioned_object.data': {'prefix': prefix, 'level': level}})


@pytest.fixture
def loggers():
    """Three loggers of a tree of their own, levels restored after."""
    names = ['sw-unit', 'sw-unit.a', 'sw-unit.a.b', 'sw-unitx']
    kept = {name: logging.getLogger(name).level for name in names}
    logging.getLogger('sw-unit').setLevel(logging.WARNING)
    for name in names[1:]:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, level in kept.items():
        logging.getLogger(name).setLevel(level)


def test_cinder_log_level_and_plain_objects_are_read_alike():
    assert log_levels.LogRequest.from_wire(_cinder('cinder', 'debug')) == \
        log_levels.LogRequest('cinder', 'DEBUG')
    assert log_levels.LogRequest.from_wire(_cinder(None, None)) == \
        log_levels.LogRequest('', None)
    assert log_levels.LogRequest.from_wire(
        {'prefix': 'x', 'level': 'Error'}) == log_levels.LogRequest(
            'x', 'ERROR')
    assert log_levels.LogRequest.from_wire({}) == log_levels.LogRequest('')


@pytest.mark.parametrize('value, reason', [
    ({'prefix': 7}, 'prefix must be a string or null, not int'),
    ({'prefix': ['a']}, 'prefix must be a string or null, not list'),
    ({'level': True}, 'True is not a valid log level'),
    ({'level': 'VERBOSE'}, "'VERBOSE' is not a valid log level (one of "
                           "INFO, WARNING, ERROR, DEBUG)"),
    ({'level': 'CRITICAL'}, "'CRITICAL' is not a valid log level"),
    ({'level': ''}, "'' is not a valid log level"),
    ({'prefix': 'a', 'levels': 'DEBUG'}, 'unknown field(s) levels'),
    ('DEBUG', 'log_request must be an object, not str'),
    (None, 'log_request must be an object, not NoneType'),
])
def test_a_malformed_request_is_refused_with_the_reason(value, reason):
    with pytest.raises(log_levels.InvalidLogRequest) as raised:
        log_levels.LogRequest.from_wire(value)
    assert reason in str(raised.value)
    assert isinstance(raised.value, exception.Invalid)


@pytest.mark.parametrize('primitive', [
    _cinder('a', 'DEBUG', name='Volume'),
    _cinder('a', 'DEBUG', version='2.0'),
    _cinder('a', 'DEBUG', namespace='scheduler_worker'),
])
def test_an_object_other_than_cinders_log_level_1_is_refused(primitive):
    with pytest.raises(exception.UnsupportedObject):
        log_levels.LogRequest.from_wire(primitive)


def test_get_gives_effective_levels_of_the_loggers_under_a_prefix(loggers):
    assert log_levels.get('sw-unit.') == {'sw-unit.a': 'WARNING',
                                          'sw-unit.a.b': 'WARNING'}
    assert set(log_levels.get('sw-unit')) == {'sw-unit', 'sw-unit.a',
                                              'sw-unit.a.b', 'sw-unitx'}


def test_everything_but_the_root_logger_is_under_the_empty_prefix(loggers):
    levels = log_levels.get('')
    assert {'sw-unit', 'sw-unit.a.b', 'scheduler_worker.admin'} <= \
        set(levels)
    assert 'root' not in levels and '' not in levels


def test_set_level_changes_the_loggers_under_the_prefix_only(loggers):
    changed = log_levels.set_level('sw-unit.a', 'debug')
    assert changed == ['sw-unit.a', 'sw-unit.a.b']
    assert logging.getLogger('sw-unit.a.b').getEffectiveLevel() == \
        logging.DEBUG
    assert logging.getLogger('sw-unit').level == logging.WARNING
    assert logging.getLogger('sw-unitx').getEffectiveLevel() == \
        logging.WARNING
    assert logging.getLogger().level != logging.DEBUG


def test_set_level_refuses_an_unknown_level_and_changes_nothing(loggers):
    with pytest.raises(log_levels.InvalidLogRequest):
        log_levels.set_level('sw-unit', 'LOUD')
    assert logging.getLogger('sw-unit').level == logging.WARNING


def test_the_reply_is_cinders_log_level_list_primitive():
    reply = log_levels.log_level_list({'a.b': 'INFO', 'c': 'DEBUG'})
    assert reply == {
        'versioned_object.name': 'LogLevelList',
        'versioned_object.namespace': 'cinder',
        'versioned_object.version': '1.0',
        'versioned_object.changes': ['objects'],
        'versioned_object.data': {'objects': [
            {'versioned_object.name': 'LogLevel',
             'versioned_object.namespace': 'cinder',
             'versioned_object.version': '1.0',
             'versioned_object.changes': ['level', 'prefix'],
             'versioned_object.data': {'prefix': prefix, 'level': level}}
            for prefix, level in [('a.b', 'INFO'), ('c', 'DEBUG')]]}}
