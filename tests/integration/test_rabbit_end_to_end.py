"""Casts over the real RabbitMQ become rows in each real database."""

import uuid

from scheduler_worker import context
from scheduler_worker import notifications
from tests import fixtures

END = notifications.CREATE_END


def _row(worker, volume_id):
    return fixtures.wait_until(
        lambda: worker.db.rows('SELECT * FROM volumes WHERE id = :id',
                               id=volume_id),
        what='volume %s in %s' % (volume_id, worker.db.backend))


def test_rpcapi_cast_is_persisted_and_notified_on_the_broker(rabbit_worker):
    ctxt = context.RequestContext('user-1', 'project-1',
                                  auth_token='SECRET-TOKEN-must-not-leak')
    volume_id = rabbit_worker.api.create_volume(
        ctxt, {'size': 5, 'display_name': 'over-rabbit',
               'metadata': {'k': 'v'}})
    [row] = _row(rabbit_worker, volume_id)
    assert (row.size, row.display_name, row.status, row.host) == (
        5, 'over-rabbit', 'creating', 'it-host@lvm#pool')
    [note] = rabbit_worker.notifications.wait_for(END, 1)
    assert note['payload']['volume_id'] == volume_id
    assert note['publisher_id'] == 'scheduler.it-host'
    assert note['context']['auth_token'] is None
    assert 'SECRET-TOKEN' not in repr(note)


def test_cinder_wire_sample_published_raw_is_persisted(rabbit_worker):
    volume_id = str(uuid.uuid4())
    message = fixtures.cinder_cast_message(volume_id)
    fixtures.publish_raw(rabbit_worker.vhost.amqp_url, rabbit_worker.topic,
                         fixtures.oslo_envelope(message))
    [row] = _row(rabbit_worker, volume_id)
    assert (row.size, row.display_name, row.availability_zone) == (
        2, 'cast-vol', 'nova')
    [note] = rabbit_worker.notifications.wait_for(END, 1)
    assert note['context']['request_id'] == message['_context_request_id']


def test_duplicate_delivery_yields_one_row(rabbit_worker):
    volume_id = str(uuid.uuid4())
    body = fixtures.oslo_envelope(fixtures.cinder_cast_message(volume_id))
    no_id = fixtures.oslo_envelope(fixtures.plain_cast_message(
        {'size': 7, 'display_name': 'no-id'}, user_id='u', project_id='p'))
    for _ in range(3):
        fixtures.publish_raw(rabbit_worker.vhost.amqp_url,
                             rabbit_worker.topic, body)
        fixtures.publish_raw(rabbit_worker.vhost.amqp_url,
                             rabbit_worker.topic, no_id)
    _row(rabbit_worker, volume_id)
    rabbit_worker.notifications.wait_for(END, 2)
    # NOTE: a later cast proves the duplicates ahead of it were consumed.
    marker = rabbit_worker.api.create_volume(context.RequestContext(),
                                             {'size': 1})
    _row(rabbit_worker, marker)
    rabbit_worker.notifications.wait_for(END, 3)
    assert len(rabbit_worker.db.rows(
        'SELECT id FROM volumes WHERE id = :id', id=volume_id)) == 1
    assert len(rabbit_worker.db.rows(
        "SELECT id FROM volumes WHERE display_name = 'no-id'")) == 1
    assert len(rabbit_worker.notifications.of(END)) == 3
