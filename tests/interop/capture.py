"""Capture what stock Cinder 29 sends and writes, per REST operation.

Run from the worktree root (``make cinder-venv`` first)::

    PYTHONPATH=. .venv/bin/python -m tests.interop.capture tests/wire/cinder29

It starts a lab with Cinder's own scheduler, taps every exchange the
services use, drives each operation of issues 10 and 11 through REST and
writes one JSON file per operation (every message in order, decoded)
plus ``startup.json`` and ``db_facts.json``. See tests/wire/cinder29/.
"""

import json
import os
import pathlib
import sys
import tempfile
import time
import uuid

import kombu

import scheduler_worker.cmd  # noqa: F401,I001  (as the tests set up)
from tests.interop import capture_ops
from tests.interop import lab as lab_module

PERIODIC = ('update_service_capabilities', 'notify_service_capabilities')


def direction(record: dict) -> str:
    exchange, key = record['exchange'] or '', record['routing_key'] or ''
    if exchange.startswith('reply_'):
        return 'reply'
    if key.startswith('notifications'):
        return 'notification'
    if exchange.endswith('_fanout'):
        return 'fanout:' + exchange[:-len('_fanout')]
    return 'topic:' + key


def shaped(record: dict, since: float) -> dict:
    """A record as written: where it went, its properties, the message."""
    body = json.loads(record['body'])
    return {'t': round(record['received'] - since, 3),
            'direction': direction(record), 'exchange': record['exchange'],
            'routing_key': record['routing_key'],
            'properties': record['properties'],
            'envelope': {k: v for k, v in body.items()
                         if k != 'oslo.message'},
            'message': record['message']}


def settle(lab, quiet: float = 2.0, timeout: float = 120) -> None:
    """Wait until no message but periodic reports reached the tap for
    ``quiet`` seconds and every queue is empty."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recent = [r for r in lab.tap.matching(since=time.time() - quiet)
                  if (r['message'] or {}).get('method') not in PERIODIC]
        if not recent and lab.queues_idle():
            return
        time.sleep(0.5)
    raise AssertionError('the lab did not settle')


def capture(lab, state, operation, out: pathlib.Path) -> None:
    operation.prepare(state)
    settle(lab)
    since = time.time()
    lab.client.history = []
    try:
        operation.run(state)
        failure = None
    except AssertionError as exc:
        failure = str(exc)[:2000]
    rest, lab.client.history = _collapsed(lab.client.history), None
    settle(lab)
    messages = [shaped(r, since) for r in lab.tap.matching(since=since)
                if (r['message'] or {}).get('method') not in PERIODIC]
    write(out / ('%s.json' % operation.name), {
        'operation': operation.name, 'doc': operation.doc, 'rest': rest,
        'failure': failure, 'messages': messages,
        'replayed_calls': replayed_calls(lab, messages)})


def _collapsed(history: list[dict]) -> list[dict]:
    """Requests in order, a repeated one (a poll) once with its count."""
    collapsed = []
    for request in history:
        if collapsed and collapsed[-1]['request'] == request:
            collapsed[-1]['times'] += 1
        else:
            collapsed.append({'request': request, 'times': 1})
    return collapsed


def replayed_calls(lab, messages: list[dict]) -> list[dict]:
    """Each call to the scheduler sent again as captured, with a reply
    queue of ours, and the scheduler's reply.

    The tap cannot see replies: oslo.messaging sends them through the
    default exchange, straight to the caller's reply queue.
    """
    calls = [m for m in messages if m['direction'].startswith(
        'topic:cinder-scheduler') and kind(m['message'] or {}) == 'call']
    replayed = []
    with kombu.Connection(lab.vhost.amqp_url) as conn:
        channel = conn.channel()
        queue = 'capture-reply-%s' % uuid.uuid4().hex[:8]
        channel.queue_declare(queue, exclusive=True, auto_delete=True)
        received = []
        channel.basic_consume(queue, callback=received.append, no_ack=True)
        producer = kombu.Producer(channel)
        for call in calls:
            # NOTE: a new _unique_id too: the server drops a message
            # whose _unique_id it has seen (oslo.messaging's dedup cache).
            message = dict(call['message'], _reply_q=queue,
                           _msg_id=uuid.uuid4().hex,
                           _unique_id=uuid.uuid4().hex)
            producer.publish(
                json.dumps({'oslo.version': '2.0',
                            'oslo.message': json.dumps(message)}),
                exchange='openstack', routing_key=call['routing_key'],
                serializer=None, content_type='application/json',
                content_encoding='utf-8')
            try:
                reply = {'reply': _reply(conn, received)}
            except AssertionError as exc:
                reply = {'reply': None, 'error': str(exc)}
            replayed.append(dict(reply, method=message['method'],
                                 routing_key=call['routing_key']))
    return replayed


def _reply(conn, received: list, timeout: float = 30) -> list[dict]:
    """The reply messages of one call, up to the one that ends it."""
    deadline = time.monotonic() + timeout
    replies = []
    while time.monotonic() < deadline:
        try:
            conn.drain_events(timeout=1)
        except TimeoutError:
            continue
        while received:
            raw = received.pop(0)
            body = json.loads(raw.body)
            message = json.loads(body['oslo.message'])
            replies.append({'properties': dict(raw.properties),
                            'envelope': {k: v for k, v in body.items()
                                         if k != 'oslo.message'},
                            'message': message})
            if message.get('ending', True):
                return replies
    raise AssertionError('no reply within %ss' % timeout)


def write(path: pathlib.Path, data) -> None:
    with open(path, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True, default=str)
        f.write('\n')
    print('wrote', path)


def kind(message: dict) -> str:
    if 'result' in message or 'failure' in message:
        return 'reply'
    if '_msg_id' in message:
        return 'call'
    return 'cast'


def summary(out_dir: pathlib.Path) -> str:
    """messages.md: per operation, each message in order, one line."""
    lines = ['# Messages per operation (generated by tests/interop/'
             'capture.py)', '',
             'direction: `topic:<routing key>`, `fanout:<topic>`, `reply`; '
             'notifications and periodic capability reports left out.', '']
    for path in sorted(out_dir.glob('*.json')):
        data = json.loads(path.read_text())
        if 'operation' not in data:
            continue
        lines += ['## %s' % data['operation'], '', data['doc'], '',
                  '| t (s) | direction | kind | method | version |',
                  '|---|---|---|---|---|']
        for m in data['messages']:
            if m['direction'] == 'notification':
                continue
            message = m['message'] or {}
            lines.append('| %s | %s | %s | %s | %s |' % (
                m['t'], m['direction'], kind(message),
                message.get('method', ''), message.get('version', '')))
        for call in data.get('replayed_calls', []):
            reply = (call['reply'] or [{}])[-1].get('message', {})
            lines.append('| (replayed) | reply to %s | reply | %s | '
                         'result: `%s` |' % (
                             call['routing_key'], call['method'],
                             json.dumps(reply.get('result'))[:80]
                             .replace('|', '/')))
        if data['failure']:
            lines += ['', 'failed: `%s`' % data['failure'][:300]]
        lines.append('')
    return '\n'.join(lines)


def main(out: str) -> None:
    out_dir = pathlib.Path(out)
    os.makedirs(out_dir, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='cinder-capture-'))
    lab = lab_module.CinderLab(tmp, lab_module.CINDER_SCHEDULER)
    try:
        lab.start()
        began = lab.tap.messages[0]['received']
        write(out_dir / 'startup.json', {
            'doc': 'from the tap bound before cinder-scheduler started: '
                   'its requests for capabilities and every report',
            'messages': [shaped(r, began) for r in lab.tap.messages]})
        state = capture_ops.State(lab)
        for operation in capture_ops.operations(state):
            capture(lab, state, operation, out_dir)
        write(out_dir / 'db_facts.json', capture_ops.db_facts(lab, state))
        (out_dir / 'messages.md').write_text(summary(out_dir))
    except BaseException:
        print(lab.tails(60))
        raise
    finally:
        lab.close()


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'tests/wire/cinder29')
