"""Cinder's own SchedulerAPI, calling whoever serves a topic (Cinder's venv).

Run by tests with Cinder's interpreter (``make cinder-venv``), not ours:
``python cinder_scheduler_client.py CONFIG_FILE TOPIC HOST`` (the file
sets ``[DEFAULT] transport_url``). It reads
requests, one JSON object a line, on stdin, and writes one JSON line per
request on stdout: what cinder-api makes of the reply, through the same
client, serializer and objects. Requests:

* ``{"get_log_levels": PREFIX}`` -> ``{"levels": {prefix: level}}``, as
  api/v3/services.py:get_log builds it from the LogLevelList;
* ``{"set_log_levels": [PREFIX, LEVEL]}`` -> ``{"cast": true}``;
* ``{"validate_host_capacity": [BACKEND, SIZE]}`` -> ``{"result": bool}``
  (group/api.py:create_from_src's call, a RequestSpec OVO).

A failure is ``{"error": class name, "message": ...}``.
"""

import json
import sys

from cinder import context
from cinder import objects
from cinder import rpc
from cinder.scheduler import rpcapi
from oslo_config import cfg


def main() -> None:
    config_file, topic, host = sys.argv[1:4]
    objects.register_all()

    conf = cfg.CONF
    conf([], project='cinder', default_config_files=[config_file],
         default_config_dirs=[])
    rpc.init(conf)
    # NOTE: the pins cinder-api reads from the services table; with no
    # database here, those of Cinder 29's scheduler row.
    rpc.LAST_RPC_VERSIONS['cinder-scheduler'] = '3.12'
    rpc.LAST_OBJ_VERSIONS['cinder-scheduler'] = '1.39'

    class SchedulerAPI(rpcapi.SchedulerAPI):
        TOPIC = topic

    api = SchedulerAPI()
    ctxt = context.get_admin_context()
    service = objects.Service(ctxt, host=host, binary='cinder-scheduler')
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if 'get_log_levels' in request:
                levels = api.get_log_levels(ctxt, service, objects.LogLevel(
                    ctxt, prefix=request['get_log_levels']))
                answer = {'type': type(levels).__name__,
                          'levels': {le.prefix: le.level for le in levels}}
            elif 'set_log_levels' in request:
                prefix, level = request['set_log_levels']
                api.set_log_levels(ctxt, service, objects.LogLevel(
                    ctxt, prefix=prefix, level=level))
                answer = {'cast': True}
            else:
                backend, size = request['validate_host_capacity']
                spec = objects.RequestSpec(
                    group_id='d0c5234c-4e1b-44f5-9448-bb56355161ec',
                    volume_properties=objects.VolumeProperties(size=size))
                answer = {'result': api.validate_host_capacity(
                    ctxt, backend=backend, request_spec=spec,
                    filter_properties=None)}
        except Exception as exc:
            answer = {'error': type(exc).__name__, 'message': str(exc)}
        sys.stdout.write(json.dumps(answer) + '\n')
        sys.stdout.flush()
    rpc.cleanup()


if __name__ == '__main__':
    main()
