import json
import subprocess
import sys
import textwrap

import oslo_messaging
import pytest

from scheduler_worker import context
from scheduler_worker import objects
from scheduler_worker import rpcapi
from tests import fixtures


class Endpoint:
    target = oslo_messaging.Target(version='3.0')

    def __init__(self):
        self.calls = []

    def create_volume(self, ctxt, **kwargs):
        self.calls.append((ctxt, kwargs))


@pytest.fixture
def api_and_endpoint():
    conf = fixtures.make_conf(transport_url='fake:/')
    transport = oslo_messaging.get_rpc_transport(conf)
    endpoint = Endpoint()
    server = oslo_messaging.get_rpc_server(
        transport, oslo_messaging.Target(topic=conf.scheduler.topic,
                                         server='s'), [endpoint])
    server.start()
    yield rpcapi.SchedulerAPI(conf, transport=transport), endpoint
    server.stop()
    server.wait()
    transport.cleanup()


def test_create_volume_always_sends_an_id(api_and_endpoint):
    api, endpoint = api_and_endpoint
    volume = {'size': 1}
    volume_id = api.create_volume(context.RequestContext('u', 'p'), volume)
    assert volume['id'] == volume_id
    fixtures.wait_until(lambda: endpoint.calls, what='the cast')
    ctxt, kwargs = endpoint.calls[0]
    assert kwargs['volume']['id'] == volume_id
    assert set(kwargs) == {'volume', 'request_spec', 'filter_properties',
                           'snapshot_id', 'image_id', 'backup_id'}
    assert ctxt['user_id'] == 'u'


def test_volume_object_keeps_its_id(api_and_endpoint):
    api, endpoint = api_and_endpoint
    volume = objects.Volume(id='0da5e6b0-cc62-4f93-b967-79a973598bb3',
                            size=1)
    assert api.create_volume(context.RequestContext(), volume) == volume.id
    fixtures.wait_until(lambda: endpoint.calls, what='the cast')
    sent = endpoint.calls[0][1]['volume']
    assert sent['versioned_object.data']['id'] == volume.id


# NOTE: every default of oslo.db's, oslo.messaging's and oslo.log's
# options, as JSON, in the interpreter that runs it.
_LIBRARY_DEFAULTS = textwrap.dedent('''
    import json
    from oslo_db import options as db_options
    from oslo_log import _options as log_options
    from oslo_messaging import opts as messaging_options
    print(json.dumps({
        '%s.%s' % (group, opt.dest): repr(opt.default)
        for lister in (db_options.list_opts, messaging_options.list_opts,
                       log_options.list_opts)
        for group, opts in lister() for opt in opts}))
''')

_IMPORT_RPCAPI = textwrap.dedent('''
    import json
    import sys
    from oslo_config import cfg
    # the libraries rpcapi uses register options of their own
    import oslo_messaging, oslo_versionedobjects.base  # noqa
    before = sorted(cfg.CONF)
    import scheduler_worker.rpcapi
    print(json.dumps({'modules': sorted(sys.modules),
                      'options_before': before,
                      'options': sorted(cfg.CONF)}))
''')


def _fresh_interpreter(*code: str) -> list:
    """Run code in a new interpreter; each piece prints a JSON line."""
    result = subprocess.run([sys.executable, '-c', '\n'.join(code)],
                            capture_output=True, text=True, timeout=120,
                            check=True)
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_importing_rpcapi_loads_no_database_code_and_changes_no_default():
    """An API service imports rpcapi into its own process."""
    [pristine] = _fresh_interpreter(_LIBRARY_DEFAULTS)
    imported, after = _fresh_interpreter(_IMPORT_RPCAPI, _LIBRARY_DEFAULTS)
    assert 'scheduler_worker.rpcapi' in imported['modules']
    loaded = [name for name in imported['modules'] if name.startswith((
        'sqlalchemy', 'oslo_db', 'alembic', 'scheduler_worker.db',
        'scheduler_worker.manager', 'scheduler_worker.service',
        'scheduler_worker.messaging'))]
    assert loaded == []
    assert imported['options'] == imported['options_before']
    assert len(pristine) > 100
    assert after == pristine
