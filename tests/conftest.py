"""pytest setup shared by every test tree."""

# NOTE: first, before anything imports oslo_messaging: selects oslo.service's
# threading backend exactly as the console scripts do.
import scheduler_worker.cmd  # noqa: F401,I001

import pathlib

import pytest

from scheduler_worker import conf as sw_conf
from scheduler_worker.cmd import common
from tests import fixtures

TESTS = pathlib.Path(__file__).parent
# NOTE: the tree a test lives in says what it needs, so its marker comes
# from there: unit/ and functional/ need nothing running, deploy/ only
# host tools (systemd-analyze, shellcheck) and seconds. interop/ (real
# Cinder services) is still to come.
TREE_MARKERS = {'integration': 'integration', 'fault': 'fault',
                'interop': 'interop'}


def pytest_collection_modifyitems(config, items):
    for item in items:
        tree = item.path.relative_to(TESTS).parts[0]
        if tree in TREE_MARKERS:
            item.add_marker(TREE_MARKERS[tree])


def pytest_configure(config):
    # NOTE: the options and library defaults the console scripts give the
    # worker; importing our code sets none of them.
    common.register_options(sw_conf.CONF)
    # NOTE: the DB API facade and enginefacade read the global CONF; give
    # them a database that exists until a test patches in its own.
    sw_conf.CONF([], project='scheduler-worker', default_config_files=[],
                 default_config_dirs=[])
    sw_conf.CONF.set_override('connection', 'sqlite://', group='database')


@pytest.fixture
def sqlite_db(tmp_path):
    db = fixtures.Database('sqlite', tmp_path)
    yield db
    db.close()


@pytest.fixture(params=fixtures.BACKENDS)
def any_db(request, tmp_path):
    """Each test runs once per database: SQLite, PostgreSQL, MariaDB."""
    db = fixtures.Database(request.param, tmp_path)
    yield db
    db.close()


@pytest.fixture(scope='session')
def rabbit_vhost():
    vhost = fixtures.RabbitVhost()
    yield vhost
    vhost.delete()


@pytest.fixture(scope='session')
def cinder_template():
    """Cinder 29's schema on PostgreSQL, made once by cinder-manage."""
    template = fixtures.CinderTemplate()
    yield template
    template.drop()


@pytest.fixture
def cinder_db_url(cinder_template):
    """A fresh PostgreSQL database with Cinder 29's schema; its URL."""
    url = cinder_template.copy()
    yield url
    fixtures.drop_database(url)


@pytest.fixture(scope='session')
def cinder_mysql_template():
    """Cinder 29's schema on MariaDB, made once by cinder-manage."""
    template = fixtures.CinderTemplate('mysql')
    yield template
    template.drop()


@pytest.fixture
def cinder_db(cinder_template):
    """A Cinder 29 database (PostgreSQL) in Cinder mode, the DB API's
    (fixtures.CinderDatabase)."""
    db = fixtures.CinderDatabase(cinder_template)
    yield db
    db.close()


@pytest.fixture(params=('postgresql', 'mysql'))
def cinder_any_db(request):
    """cinder_db, once on PostgreSQL and once on MariaDB."""
    template = request.getfixturevalue(
        'cinder_template' if request.param == 'postgresql' else
        'cinder_mysql_template')
    db = fixtures.CinderDatabase(template)
    yield db
    db.close()
