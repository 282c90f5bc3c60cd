"""Malformed casts, interleaved with valid ones, harm nothing."""

import collections
import json
import os
import pickle
import uuid

import kombu

from tests import fixtures
from tests.fault.conftest import mixed_casts
from tests.fault.test_crashes import _drained

JSON = 'application/json'
SECRET = 'SECRET-TOKEN-of-a-poison-cast'
# NOTE: the bad casts whose volume id can be read: refused and recorded
# (volume in error, ERROR notification), and acknowledged. Every other
# readable kind is poison: reported, logged whole, rejected.
RECORDED = {'size_negative', 'size_string', 'size_huge', 'name_too_long',
            'nul_in_name', 'az_not_a_string', 'metadata_not_strings',
            'cinder_volume_2_0', 'context_timestamp_garbage'}


class _Marker:
    """Unpickling this creates a file: proof that pickle was deserialized."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, 'w'))


def _cast(kind, **changes):
    """A create_volume cast with a request id naming its kind of poison."""
    message = fixtures.plain_cast_message(
        {'id': str(uuid.uuid4()), 'size': 1, 'display_name': kind},
        user_id='u', project_id='p', request_id='req-poison-%s' % kind)
    message.update(changes)
    return message


def _volume(kind, **fields):
    message = _cast(kind)
    message['args']['volume'].update(fields)
    return message


def _nested(depth):
    value = 'bottom'
    for _ in range(depth):
        value = {'v': value}
    return value


def poison_corpus(marker_path):
    """(kind, body, content type, readable?) for each kind of poison.

    Readable poison carries a request id, is logged with it and reported;
    unreadable poison (readable False) can only be logged.
    """
    envelope = fixtures.oslo_envelope
    cinder = fixtures.cinder_cast_message(str(uuid.uuid4()))
    cinder['_context_request_id'] = 'req-poison-cinder_volume_2_0'
    cinder['args']['volume']['versioned_object.version'] = '2.0'
    foreign = _volume('foreign_namespace')
    foreign['args']['volume'] = {
        'versioned_object.name': 'Volume',
        'versioned_object.namespace': 'nova',
        'versioned_object.version': '1.0',
        'versioned_object.data': {'size': 1}}
    unknown_object = _volume('unknown_own_object')
    unknown_object['args']['volume'] = {
        'versioned_object.name': 'Frobnicator',
        'versioned_object.namespace': 'scheduler_worker',
        'versioned_object.version': '1.0',
        'versioned_object.data': {}}
    unreadable = [
        ('not_json', b'{not json', JSON),
        ('json_array', b'[1, 2, 3]', JSON),
        ('json_string', b'"hello"', JSON),
        ('bad_utf8', b'\xff\xfe{"a": 1}', JSON),
        ('pickle', pickle.dumps(_Marker(marker_path)),
         'application/x-python-serialize'),
        ('yaml', b'!!python/object/apply:os.system ["true"]',
         'application/x-yaml'),
        ('msgpack', b'\x81\xa1a\x01', 'application/x-msgpack'),
        ('text_plain', b'hello', 'text/plain'),
        ('envelope_message_not_json',
         json.dumps({'oslo.version': '2.0',
                     'oslo.message': '{broken'}).encode(), JSON),
        ('envelope_version_9',
         json.dumps({'oslo.version': '9.0',
                     'oslo.message': '{}'}).encode(), JSON),
        ('json_too_deep_to_decode', ('[' * 100000 + ']' * 100000).encode(),
         JSON),
    ]
    readable = [
        ('no_method', _cast('no_method', method=None)),
        # NOTE: with a token, which the log of its rejection must mask.
        ('unknown_method', _cast('unknown_method', method='drop_tables',
                                 _context_auth_token=SECRET)),
        ('private_method', _cast('private_method', method='_private')),
        ('method_not_a_string', _cast('method_not_a_string', method=42)),
        ('version_4', _cast('version_4', version='4.0')),
        ('version_garbage', _cast('version_garbage', version='x.y')),
        ('args_not_an_object', _cast('args_not_an_object', args=[1, 2])),
        ('volume_missing', _cast('volume_missing', args={})),
        ('volume_not_an_object', _cast('volume_not_an_object',
                                       args={'volume': 'vol'})),
        ('size_negative', _volume('size_negative', size=-5)),
        ('size_string', _volume('size_string', size='10')),
        ('size_huge', _volume('size_huge', size=10 ** 12)),
        ('id_not_uuid', _volume('id_not_uuid', id='volume-1')),
        ('name_too_long', _volume('name_too_long', display_name='n' * 300)),
        ('nul_in_name', _volume('nul_in_name', display_name='a\x00b')),
        ('az_not_a_string', _volume('az_not_a_string',
                                    availability_zone=['nova'])),
        ('metadata_not_strings', _volume('metadata_not_strings',
                                         metadata={'k': {'v': 1}})),
        ('oversized', _volume('oversized',
                              display_description='x' * (2 << 20))),
        ('nested_too_deep', _volume('nested_too_deep', extra=_nested(40))),
        ('foreign_namespace', foreign),
        ('unknown_own_object', unknown_object),
        ('cinder_volume_2_0', cinder),
        ('context_timestamp_garbage', _cast(
            'context_timestamp_garbage', _context_timestamp='not-a-time')),
    ]
    # NOTE: an empty body decodes to an empty message: readable, with no
    # method and no request id; it is rejected like any unknown method.
    return ([(kind, body, ctype, False) for kind, body, ctype in unreadable]
            + [(kind, envelope(message).encode(), JSON, True)
               for kind, message in readable]
            + [('empty_body', b'', JSON, None)])


def test_poison_corpus_is_contained(deployment, tmp_path):
    deployment = deployment()
    deployment.declare_queues()
    marker = str(tmp_path / 'unpickled')
    corpus = poison_corpus(marker)
    valid = mixed_casts(len(corpus) * 10, 'valid')
    with kombu.Connection(deployment.vhost.amqp_url, transport_options={
            'confirm_publish': True}) as conn:
        producer = conn.Producer()
        for i, (_, body, content_type, _) in enumerate(corpus):
            for cast in valid.bodies[i * 10:(i + 1) * 10]:
                producer.publish(cast, exchange='openstack',
                                 routing_key=deployment.topic,
                                 serializer=None, content_type=JSON,
                                 content_encoding='utf-8')
            producer.publish(body, exchange='openstack',
                             routing_key=deployment.topic, serializer=None,
                             content_type=content_type,
                             content_encoding='binary')
    worker = deployment.worker()
    worker.wait_consuming()
    fixtures.wait_until(
        lambda: _drained(deployment, len(valid.names) + len(RECORDED)),
        timeout=180, what='valid casts and poison to drain')
    readable = [kind for kind, *_, is_readable in corpus if is_readable]
    unreadable = sum(1 for *_, is_readable in corpus if is_readable is False)
    fixtures.wait_until(
        lambda: all(_first_error_lines(worker.log(), kind)
                    for kind in readable) and
        len(_skipped(worker.log())) >= unreadable,
        timeout=120, what='every poison to be reported')
    assert worker.process.poll() is None, 'the worker died'
    assert worker.terminate() == 0
    assert fixtures.queue_depth(deployment.vhost.amqp_url,
                                deployment.topic) == 0
    assert not os.path.exists(marker), 'a pickle was deserialized'

    names = collections.Counter(row.display_name for row in deployment.rows(
        "SELECT display_name FROM volumes WHERE status = 'creating'"))
    assert sorted(names) == sorted(valid.names)
    assert deployment.rows("SELECT count(*) FROM volumes WHERE status = "
                           "'error'") == [(len(RECORDED),)]

    log = worker.log()
    for kind in readable:
        [line] = _first_error_lines(log, kind)
        if kind in RECORDED:
            assert 'Cannot create volume' in line, kind
        else:
            assert 'Rejecting message' in line, kind
            assert 'dropped (no dead-letter exchange), as received: ' in \
                line, kind
    assert SECRET not in log
    # NOTE: what could not be read at all is still logged, once each.
    assert len(_skipped(log)) == unreadable
    anonymous = [line for line in log.splitlines()
                 if 'Rejecting message' in line and '(method None)' in line
                 and 'req-poison' not in line]
    assert len(anonymous) == 1

    # NOTE: exactly one ERROR notification per readable bad cast, and one
    # for the empty body, whose context has no request id of ours.
    def reported():
        return [n for n in deployment.notifications.received
                if n['priority'] == 'ERROR']
    fixtures.wait_until(lambda: len(reported()) >= len(readable) + 1,
                        what='an ERROR notification for each bad cast')
    errors = collections.Counter(n['context'].get('request_id')
                                 for n in reported())
    assert {kind: errors['req-poison-%s' % kind] for kind in readable} == \
        dict.fromkeys(readable, 1)
    assert sum(errors.values()) == len(readable) + 1


def _first_error_lines(log: str, kind: str) -> list[str]:
    """The ERROR lines that report this kind of poison (not tracebacks)."""
    request_id = 'req-poison-%s' % kind
    return [line for line in log.splitlines()
            if ' ERROR ' in line and request_id in line and
            ('Rejecting message' in line or 'Cannot create volume' in line)]


def _skipped(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if ' ERROR ' in line and 'Failed to process message' in line]
