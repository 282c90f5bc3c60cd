"""The create_volume cast bodies published: Cinder wire casts, plain dicts.

Bodies are built once as JSON templates with placeholders, then filled per
cast by string replacement: the harness must not spend the CPU it measures
on JSON encoding.
"""

import copy
import json
import os
import uuid

WIRE_SAMPLE = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'tests', 'wire', 'create_volume_cast.json')

# NOTE: the AMQP properties of the captured Cinder cast.
PROPERTIES = {'content_type': 'application/json',
              'content_encoding': 'utf-8', 'delivery_mode': 2,
              'priority': 0}

_VOLUME_ID = '@@VOLUME_ID@@'
_UNIQUE_ID = '@@UNIQUE_ID@@'
_BENCH_T = '@@BENCH_T@@'

# NOTE: the context of a plain cast: what oslo.context's to_dict() sends,
# as our own rpcapi does, with the ids an API service would fill in.
_PLAIN_CONTEXT = {
    'user_id': 'bench-user', 'project_id': 'bench-project',
    'user': 'bench-user', 'project': 'bench-project',
    'domain': None, 'user_domain': None, 'project_domain': None,
    'is_admin': False, 'read_only': False, 'show_deleted': False,
    'auth_token': None, 'request_id': 'req-bench',
    'global_request_id': None, 'resource_uuid': None, 'roles': ['member'],
    'user_identity': 'bench-user bench-project - - -',
    'is_admin_project': True, 'read_deleted': 'no',
    'timestamp': '2026-11-28T06:09:24.310597',
}


def _envelope(message: dict) -> str:
    """oslo.messaging's 2.0 envelope, as JSON text."""
    return json.dumps({'oslo.version': '2.0',
                       'oslo.message': json.dumps(message)})


def cinder_template(timestamped: bool = False) -> str:
    """The captured Cinder 29 cast, with placeholders for its ids."""
    with open(WIRE_SAMPLE) as sample:
        message = copy.deepcopy(json.load(sample)['message'])
    message['_unique_id'] = _UNIQUE_ID
    args = message['args']
    volume = args['volume']['versioned_object.data']
    volume['id'] = _VOLUME_ID
    if timestamped:
        volume['metadata'] = dict(volume['metadata'] or {},
                                  bench_t=_BENCH_T)
    spec = args['request_spec']['versioned_object.data']
    spec['volume_id'] = _VOLUME_ID
    spec['volume']['versioned_object.data']['id'] = _VOLUME_ID
    return _envelope(message)


def plain_template(timestamped: bool = False) -> str:
    """A small create_volume cast whose volume is a plain dict."""
    metadata = {'purpose': 'bench'}
    if timestamped:
        metadata['bench_t'] = _BENCH_T
    volume = {'id': _VOLUME_ID, 'size': 1, 'display_name': 'bench-vol',
              'display_description': None, 'availability_zone': 'nova',
              'status': 'creating', 'attach_status': 'detached',
              'user_id': 'bench-user', 'project_id': 'bench-project',
              'metadata': metadata}
    message = {'_context_%s' % k: v for k, v in _PLAIN_CONTEXT.items()}
    message.update({'_unique_id': _UNIQUE_ID, 'method': 'create_volume',
                    'version': '3.0', 'args': {'volume': volume}})
    return _envelope(message)


def fill(template: str, volume_id: str, bench_t: float | None = None) -> str:
    """One cast body from a template: fresh volume and message ids."""
    body = template.replace(_VOLUME_ID, volume_id).replace(
        _UNIQUE_ID, uuid.uuid4().hex)
    if bench_t is not None:
        body = body.replace(_BENCH_T, '%.6f' % bench_t)
    return body


class CastMix:
    """Half Cinder wire casts, half plain-dict casts, interleaved."""

    def __init__(self, timestamped: bool = False) -> None:
        self.templates = (cinder_template(timestamped),
                          plain_template(timestamped))
        self._count = 0

    def next(self, bench_t: float | None = None) -> tuple[str, str]:
        """The next (volume_id, body) of the mix."""
        template = self.templates[self._count % 2]
        self._count += 1
        volume_id = str(uuid.uuid4())
        return volume_id, fill(template, volume_id, bench_t)

    def sizes(self) -> dict[str, int]:
        """Body sizes in bytes, for the report."""
        return {'cinder': len(fill(self.templates[0], str(uuid.uuid4()),
                                   0.0)),
                'plain': len(fill(self.templates[1], str(uuid.uuid4()),
                                  0.0))}
