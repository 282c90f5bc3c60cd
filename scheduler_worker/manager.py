"""The RPC endpoint: what the worker answers on its topic. Thin."""

import logging

from oslo_db import exception as db_exc
import oslo_messaging

from scheduler_worker import exception
from scheduler_worker import volumes

LOG = logging.getLogger(__name__)


class SchedulerManager:
    """Server side of the scheduler RPC API.

    Accepts what Cinder's SchedulerAPI casts. API version history (the
    version numbers are Cinder's, so its clients are served unchanged):

    * 3.0 - create_volume(volume, snapshot_id, image_id, request_spec,
      filter_properties, backup_id)
    * 3.12 - the newest Cinder SchedulerAPI; its create_volume cast is
      unchanged since 3.0, so any 3.x up to 3.12 is accepted.
    """

    RPC_API_VERSION = '3.12'

    target = oslo_messaging.Target(version=RPC_API_VERSION)

    def __init__(self, creator: volumes.VolumeCreator) -> None:
        self._creator = creator

    @oslo_messaging.expected_exceptions(exception.Invalid)
    def create_volume(self, context, volume=None, request_spec=None,
                      filter_properties=None, snapshot_id=None,
                      image_id=None, backup_id=None, **kwargs) -> None:
        """Persist a volume and report it (RPC API 3.0).

        :param volume: a Volume (ours or Cinder's 1.x primitive) or a dict
            of Cinder's volume fields; ``size`` is required.
        :param request_spec: Cinder's RequestSpec or a dict; its
            volume_properties supply user and project when the volume
            lacks them, and it is echoed in failure notifications.
        :param filter_properties: accepted for Cinder compatibility.
        :param snapshot_id: accepted; the volume's own field is stored.
        :param image_id: accepted for Cinder compatibility.
        :param backup_id: accepted for Cinder compatibility.
        :param kwargs: arguments a newer 3.x client may add; ignored.
        :raises Invalid: the request cannot be honoured; the volume is
            recorded in error and an ERROR notification was sent.
        :raises TemporaryFailure: the database stayed unreachable through
            oslo.db's retries; the cast should be handled again later.
        """
        LOG.debug('create_volume cast received (message %s)',
                  context.message_id)
        if kwargs:
            LOG.debug('Ignoring create_volume arguments %s',
                      ', '.join(sorted(kwargs)))
        try:
            self._creator.create(context, volume, request_spec=request_spec)
        except (db_exc.DBConnectionError, db_exc.DBDeadlock) as exc:
            raise exception.TemporaryFailure(reason=str(exc)) from exc
