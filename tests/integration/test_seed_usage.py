"""The project seed's use of the data layer still works, on PostgreSQL."""

import subprocess
import sys
import textwrap

import sqlalchemy as sa

from tests import fixtures

SEED = textwrap.dedent('''
    import sys

    import scheduler_worker.cmd  # threading backend, as every entry point
    from oslo_db import options
    from scheduler_worker import conf
    from scheduler_worker import context
    from scheduler_worker.db import migration
    from scheduler_worker import objects

    CONF = conf.CONF
    CONF([], project='scheduler-worker', default_config_files=[])
    options.set_defaults(CONF, connection=sys.argv[1])
    migration.db_sync()

    ctx = context.RequestContext('seed-user', 'seed-project', is_admin=True)
    db_volume = {'size': 3, 'display_name': 'seeded', 'status': 'creating',
                 'availability_zone': 'nova', 'metadata': {'seed': 'yes'}}
    volume = objects.Volume(context=ctx, **db_volume)
    volume.create()
    print(volume.id)
''')


def test_seed_usage_persists_through_the_facade_on_postgresql(tmp_path):
    url = fixtures.create_database('postgresql', tmp_path)
    try:
        volume_id = subprocess.run(
            [sys.executable, '-c', SEED, url], check=True,
            capture_output=True, text=True, timeout=120).stdout.strip()
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            row = connection.execute(sa.text(
                'SELECT size, display_name, user_id, project_id, status '
                'FROM volumes WHERE id = :id'), {'id': volume_id}).one()
            metadata = connection.execute(sa.text(
                'SELECT key, value FROM volume_metadata WHERE volume_id = '
                ':id'), {'id': volume_id}).all()
        engine.dispose()
    finally:
        fixtures.drop_database(url)
    assert tuple(row) == (3, 'seeded', None, None, 'creating')
    assert [tuple(m) for m in metadata] == [('seed', 'yes')]
