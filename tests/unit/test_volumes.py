"""VolumeCreator against a real SQLite database and a real fake:// notifier."""

import oslo_messaging
import pytest

from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import notifications
from scheduler_worker import volumes
from tests import fixtures


@pytest.fixture
def creator(sqlite_db):
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_notification_transport(conf)
    capture = fixtures.NotificationCapture(transport)
    outbox = notifications.Outbox(conf, transport, 'unit')
    yield volumes.VolumeCreator(outbox, max_size=10), capture, sqlite_db
    capture.stop()
    transport.cleanup()


def _ctx(message_id=None):
    return context.RequestContext('u', 'p', message_id=message_id)


def test_same_message_twice_creates_one_volume(creator):
    create, capture, db = creator
    first = create.create(_ctx('msg-1'), {'size': 1})
    again = create.create(_ctx('msg-1'), {'size': 1})
    assert first.id == again.id == volumes.derived_volume_id('msg-1')
    assert len(db.rows('SELECT id FROM volumes')) == 1
    capture.wait_for(notifications.CREATE_END, 1)
    other = create.create(_ctx('msg-2'), {'size': 1})
    assert other.id != first.id
    capture.wait_for(notifications.CREATE_END, 2)
    assert len(capture.of(notifications.CREATE_END)) == 2


def test_refused_duplicate_is_not_reported_twice(creator):
    create, capture, db = creator
    volume_id = 'f0c9a8e4-0b6a-4d4e-9d59-5d1a6b1c2d3e'
    for _ in range(2):
        with pytest.raises(exception.InvalidVolume):
            create.create(_ctx(), {'id': volume_id, 'size': 11})
    capture.wait_for(notifications.CREATE_ERROR, 1)
    create.create(_ctx(), {'size': 1})
    capture.wait_for(notifications.CREATE_END, 1)
    assert len(capture.of(notifications.CREATE_ERROR)) == 1
    assert db.rows('SELECT status, size FROM volumes WHERE id = :id',
                   id=volume_id) == [('error', None)]


@pytest.mark.parametrize('volume,expected', [
    (None, 'volume is required'), ('vol', 'must be an object'),
    (42, 'must be an object'), (['size', 1], 'must be an object')])
def test_volume_that_is_not_an_object_is_refused(creator, volume, expected):
    create, capture, _ = creator
    with pytest.raises(exception.InvalidVolume, match=expected):
        create.create(_ctx(), volume)
    [note] = capture.wait_for(notifications.CREATE_ERROR, 1)
    assert note['payload']['volume_id'] is None


def test_owner_falls_back_to_request_spec_then_context(creator):
    create, _, _ = creator
    spec = {'volume_properties': {'user_id': 'spec-user'}}
    volume = create.create(_ctx(), {'size': 1}, request_spec=spec)
    assert (volume.user_id, volume.project_id) == ('spec-user', 'p')
