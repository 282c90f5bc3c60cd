"""Client side of the scheduler RPC API, for API services that cast.

An API service imports this into its own process: it loads no database
code and changes no option or library default of that process, beyond
registering the [scheduler] group it reads the topic from.
"""

from typing import Any

from oslo_config import cfg
import oslo_messaging
from oslo_utils import uuidutils

from scheduler_worker import rpc
from scheduler_worker.conf import scheduler as scheduler_conf


class SchedulerAPI:
    """Casts to scheduler-worker in the wire format of Cinder's SchedulerAPI.

    API version history:

    * 3.0 - create_volume
    """

    RPC_API_VERSION = '3.0'

    def __init__(self, conf: cfg.ConfigOpts | None = None,
                 transport: oslo_messaging.Transport | None = None) -> None:
        conf = conf or cfg.CONF
        scheduler_conf.register_opts(conf)
        self._transport = transport or rpc.get_rpc_transport(conf)
        self.client = rpc.get_client(self._transport, conf.scheduler.topic,
                                     version_cap=self.RPC_API_VERSION)

    def create_volume(self, ctxt, volume, request_spec: Any = None,
                      filter_properties: dict | None = None,
                      snapshot_id: str | None = None,
                      image_id: str | None = None,
                      backup_id: str | None = None) -> str:
        """Cast create_volume; return the volume's id.

        :param volume: a Volume object or a dict of volume fields. An id is
            assigned here when it has none, so the caller knows it and a
            re-sent cast names the same volume.
        """
        volume_id = self._ensure_id(volume)
        cctxt = self.client.prepare(version='3.0')
        cctxt.cast(ctxt, 'create_volume', volume=volume,
                   request_spec=request_spec,
                   filter_properties=filter_properties or {},
                   snapshot_id=snapshot_id, image_id=image_id,
                   backup_id=backup_id)
        return volume_id

    @staticmethod
    def _ensure_id(volume) -> str:
        if isinstance(volume, dict):
            volume.setdefault('id', uuidutils.generate_uuid())
            return volume['id']
        if not volume.obj_attr_is_set('id'):
            volume.id = uuidutils.generate_uuid()
        return volume.id
