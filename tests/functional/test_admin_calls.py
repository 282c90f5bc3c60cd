"""Log levels and validate_host_capacity, as cinder-api sends them (fake://).

The messages are Cinder 29's own, captured in tests/wire/cinder29: the
args and context sent again through oslo.messaging, to the worker's
server queue (get/set_log_levels) or its topic (validate_host_capacity).
"""

import copy
import logging

import oslo_messaging
import pytest

from scheduler_worker import exception
from scheduler_worker import log_levels
from tests import fixtures


def _captured(operation: str, method: str) -> dict:
    """The first message of ``method`` to cinder-scheduler in a captured
    operation (cinder-api sends get_log_levels to every service)."""
    return copy.deepcopy(next(
        m['message'] for m in fixtures.wire_sample(
            'cinder29/%s.json' % operation)['messages']
        if m['message'].get('method') == method and
        m['routing_key'].split('.')[0] == 'cinder-scheduler'))


def _send(worker, message: dict, call: bool, server: str | None = None,
          **args):
    """Send a captured message's method, context and args (``args``
    replace some), as cinder-api would: a call's reply is returned."""
    context = {key[len('_context_'):]: value for key, value in
               message.items() if key.startswith('_context_')}
    client = oslo_messaging.get_rpc_client(
        worker.transport,
        oslo_messaging.Target(topic=worker.conf.scheduler.topic),
        serializer=oslo_messaging.NoOpSerializer(), timeout=30)
    prepared = client.prepare(version=message['version'], server=server)
    kwargs = dict(message['args'], **args)
    send = prepared.call if call else prepared.cast
    return send(context, message['method'], **kwargs)


def _log_request(prefix, level=None) -> dict:
    request = _captured('set_log_levels', 'set_log_levels')['args'][
        'log_request']
    request['versioned_object.data'] = {'prefix': prefix, 'level': level}
    return request


@pytest.fixture
def levels_kept():
    """The loggers' levels as they were, once the test is over."""
    kept = {name: logger.level for name, logger in
            logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)}
    yield
    for name, level in kept.items():
        logging.getLogger(name).setLevel(level)


def _reply_levels(reply: dict) -> dict[str, str]:
    """What cinder-api's get_log makes of the reply: {prefix: level}."""
    assert reply['versioned_object.name'] == 'LogLevelList'
    assert reply['versioned_object.namespace'] == 'cinder'
    assert reply['versioned_object.version'] == '1.0'
    items = reply['versioned_object.data']['objects']
    assert {(i['versioned_object.name'], i['versioned_object.version'])
            for i in items} == {('LogLevel', '1.0')}
    return {i['versioned_object.data']['prefix']:
            i['versioned_object.data']['level'] for i in items}


def test_get_log_levels_replies_every_logger_of_the_worker(worker):
    message = _captured('get_log_levels', 'get_log_levels')
    assert message['args']['log_request']['versioned_object.data'] == {
        'level': None, 'prefix': ''}
    levels = _reply_levels(_send(worker, message, call=True,
                                 server='fn-host'))
    expected = log_levels.get('')
    assert levels == expected
    assert 'scheduler_worker.admin' in levels
    assert 'oslo_messaging.rpc.server' in levels
    assert levels['scheduler_worker.manager'] == logging.getLevelName(
        logging.getLogger('scheduler_worker.manager').getEffectiveLevel())


def test_get_log_levels_with_a_prefix_replies_those_loggers_only(worker):
    message = _captured('get_log_levels', 'get_log_levels')
    levels = _reply_levels(_send(
        worker, message, call=True, server='fn-host',
        log_request=_log_request('scheduler_worker.scheduler')))
    assert levels and all(name.startswith('scheduler_worker.scheduler')
                          for name in levels)
    assert 'scheduler_worker.scheduler.driver' in levels


def test_set_log_levels_changes_the_level_at_run_time(worker, levels_kept):
    message = _captured('set_log_levels', 'set_log_levels')
    prefix = 'scheduler_worker.scheduler'
    logging.getLogger(prefix + '.driver').setLevel(logging.WARNING)
    # NOTE: in lower case, as a user may type it and cinder-api passes on.
    _send(worker, message, call=False, server='fn-host',
          log_request=_log_request(prefix, 'debug'))
    fixtures.wait_until(
        lambda: logging.getLogger(prefix + '.driver').level == logging.DEBUG,
        what='the level set')
    levels = _reply_levels(_send(
        worker, _captured('get_log_levels', 'get_log_levels'), call=True,
        server='fn-host', log_request=_log_request(prefix)))
    assert set(levels.values()) == {'DEBUG'}
    # NOTE: loggers outside the prefix keep theirs.
    assert logging.getLogger('scheduler_worker.manager').level != \
        logging.DEBUG


def test_a_bad_level_is_refused_reported_and_not_applied(worker,
                                                         levels_kept):
    message = _captured('set_log_levels', 'set_log_levels')
    logger = logging.getLogger('scheduler_worker.scheduler.driver')
    logger.setLevel(logging.WARNING)
    _send(worker, message, call=False, server='fn-host',
          log_request=_log_request('scheduler_worker', 'VERBOSE'))
    [report] = worker.notifications.wait_for('scheduler.set_log_levels', 1)
    assert report['priority'] == 'ERROR'
    assert "'VERBOSE' is not a valid log level" in report['payload']['reason']
    assert report['context']['request_id'] == message['_context_request_id']
    assert logger.level == logging.WARNING
    # NOTE: the queue is not blocked: the next request is served.
    _send(worker, message, call=False, server='fn-host',
          log_request=_log_request('scheduler_worker.scheduler', 'ERROR'))
    fixtures.wait_until(lambda: logger.level == logging.ERROR,
                        what='the next request served')


def test_a_malformed_get_log_levels_gets_the_error_as_reply(worker):
    message = _captured('get_log_levels', 'get_log_levels')
    with pytest.raises(log_levels.InvalidLogRequest) as raised:
        _send(worker, message, call=True, server='fn-host',
              log_request={'prefix': 7})
    assert 'prefix must be a string or null, not int' in str(raised.value)
    worker.notifications.wait_for('scheduler.get_log_levels', 1)


def test_validate_host_capacity_answers_as_cinder_does(worker, pools):
    message = _captured('create_group_from_group_snapshot',
                        'validate_host_capacity')
    assert message['args']['filter_properties'] is None
    spec = message['args']['request_spec']
    size = spec['versioned_object.data']['volume_properties'][
        'versioned_object.data']

    def validate(backend, gib=1):
        size['size'] = gib
        return _send(worker, message, call=True, backend=backend,
                     request_spec=spec)

    # NOTE: a backend (pool ignored) or a pool; the pools hold 1000 and
    # 100 GiB.
    assert validate('fn-host@lvm#pool') is True
    assert validate('fn-host@lvm') is True
    assert validate('h@b#p', 100) is True
    assert validate('h@b#p', 101) is False
    assert validate('nohost@x') is False
    assert validate('fn-host@lvm#other') is False


def test_validate_host_capacity_refuses_a_size_of_another_type(worker,
                                                               pools):
    message = _captured('create_group_from_group_snapshot',
                        'validate_host_capacity')
    spec = message['args']['request_spec']
    spec['versioned_object.data']['volume_properties'][
        'versioned_object.data']['size'] = '1'
    with pytest.raises(exception.Invalid) as raised:
        _send(worker, message, call=True, backend='fn-host@lvm#pool',
              request_spec=spec)
    assert "size must be an integer of GiB >= 0, not '1'" in str(
        raised.value)
