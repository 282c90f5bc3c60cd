"""Queue durability and dead-lettering, as operators configure them."""

import json
import subprocess

import kombu
import pytest

from scheduler_worker import context
from scheduler_worker import rpcapi
from scheduler_worker import service
from tests import fixtures


@pytest.fixture
def own_vhost():
    vhost = fixtures.RabbitVhost()
    yield vhost
    vhost.delete()


def _queues(vhost) -> dict[str, dict]:
    out = subprocess.run(
        ['rabbitmqctl', '-q', '--formatter', 'json', 'list_queues', '-p',
         vhost.name, 'name', 'type', 'durable'],
        check=True, capture_output=True, text=True, timeout=60).stdout
    return {q['name']: q for q in json.loads(out)}


def _worker(vhost, sqlite_db, **rabbit):
    topic = fixtures.unique_name('sw-queues')
    overrides = {'oslo_messaging_rabbit__%s' % k: v
                 for k, v in rabbit.items()}
    conf = fixtures.make_conf(transport_url=vhost.transport_url,
                              scheduler__topic=topic, **overrides)
    fixtures.static_backend('queues@lvm#pool', conf=conf)
    server = service.WorkerService(conf)
    server.start()
    return conf, topic, server


@pytest.mark.parametrize('option,expected', [
    ({'rabbit_quorum_queue': True}, {'type': 'quorum', 'durable': True}),
    ({'amqp_durable_queues': True}, {'type': 'classic', 'durable': True}),
    ({}, {'type': 'classic', 'durable': False}),
])
def test_queue_kind_follows_configuration(own_vhost, sqlite_db, option,
                                          expected):
    conf, topic, server = _worker(own_vhost, sqlite_db, **option)
    try:
        api = rpcapi.SchedulerAPI(conf)
        volume_id = api.create_volume(context.RequestContext('u', 'p'),
                                      {'size': 1})
        fixtures.wait_until(lambda: sqlite_db.rows(
            "SELECT id FROM volumes WHERE id = :id AND status = 'creating'",
            id=volume_id), what='the cast to be persisted')
        api._transport.cleanup()
    finally:
        server.stop()
    queue = _queues(own_vhost)[topic]
    assert {k: queue[k] for k in expected} == expected


def test_poison_goes_to_the_dead_letter_exchange_a_policy_names(
        own_vhost, sqlite_db):
    conf, topic, server = _worker(own_vhost, sqlite_db)
    try:
        subprocess.run(
            ['rabbitmqctl', '-q', 'set_policy', '-p', own_vhost.name,
             'sw-dead-letter', '^%s$' % topic,
             json.dumps({'dead-letter-exchange': 'sw-dead'}),
             '--apply-to', 'queues'], check=True, capture_output=True,
            timeout=60)
        with kombu.Connection(own_vhost.amqp_url) as conn:
            dead = kombu.Queue('sw-dead-letters',
                               kombu.Exchange('sw-dead', type='fanout'))
            dead(conn.default_channel).declare()
        poison = fixtures.plain_cast_message({'size': 1},
                                             request_id='req-dead')
        poison['method'] = 'drop_tables'
        fixtures.publish_raw(own_vhost.amqp_url, topic,
                             fixtures.oslo_envelope(poison))
        fixtures.publish_raw(own_vhost.amqp_url, topic, b'{not json')

        def dead_letters():
            # NOTE: raw basic.get: the bodies are not decoded, poison or not.
            with kombu.Connection(own_vhost.amqp_url) as conn:
                bodies = []
                while (message := conn.default_channel.basic_get(
                        'sw-dead-letters', no_ack=True)) is not None:
                    body = message.body
                    bodies.append(body.encode() if isinstance(body, str)
                                  else body)
                return bodies
        received = []
        fixtures.wait_until(
            lambda: received.extend(dead_letters()) or len(received) >= 2,
            what='both poison messages in the dead-letter queue')
    finally:
        server.stop()
    assert b'{not json' in received
    assert any(b'drop_tables' in body for body in received)
