"""The DB API facade reads its options when first used, not at import."""

import inspect
import subprocess
import sys
import textwrap

from scheduler_worker.db import api as db
from scheduler_worker.db.cinder import api as cinder_api
from scheduler_worker.db.sqlalchemy import api as sqla_api
from tests import fixtures


def test_retry_options_parsed_after_import_are_the_ones_used(tmp_path):
    config = tmp_path / 'sw.conf'
    config.write_text('[database]\nconnection = sqlite://\n'
                      'db_max_retries = 3\ndb_retry_interval = 2\n')
    script = textwrap.dedent('''
        import scheduler_worker.cmd
        from scheduler_worker import conf
        from scheduler_worker.db import api as db
        conf.CONF(['--config-file', %r], project='scheduler-worker')
        kwargs = db._impl()._wrap_db_kwargs
        print(kwargs['max_retries'], kwargs['retry_interval'])
    ''' % str(config))
    result = subprocess.run([sys.executable, '-c', script],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['3', '2']


CINDER_ONLY = {'volume_extend_refused', 'cast_handled', 'snapshot_hand_off',
               'snapshot_refused', 'backup_hand_off', 'backup_refused',
               'messages_reap', 'reservations_expire',
               # Issue 11: manage_existing, create_group, workers cleanup.
               'volume_managed', 'volume_manage_refused', 'group_hand_off',
               'group_refused', 'services_for_cleanup', 'workers_cleanup'}
CINDER_ONLY |= {'volume_move_refused', 'volume_type_get_by_name_or_id'}


def _facade_functions():
    return {name: fn for name, fn in vars(db).items()
            if inspect.isfunction(fn) and not name.startswith('_')
            and fn.__module__ == db.__name__
            and name not in ('is_cinder', 'is_temporary')}


def test_each_backend_has_what_the_facade_calls_with_its_parameters():
    facade = _facade_functions()
    assert CINDER_ONLY <= set(facade)
    for name, fn in facade.items():
        expected = list(inspect.signature(fn).parameters)
        backends = [cinder_api] + ([] if name in CINDER_ONLY else [sqla_api])
        for backend in backends:
            assert list(inspect.signature(getattr(backend, name)).parameters
                        ) == expected, (backend.__name__, name)
    assert not CINDER_ONLY & set(vars(sqla_api))


def test_the_backend_option_selects_the_backend():
    assert set(db._BACKEND_MAPPING) == {'sqlalchemy', 'cinder'}
    assert db.is_cinder(fixtures.make_conf(database__backend='cinder'))
    assert not db.is_cinder(fixtures.make_conf())
