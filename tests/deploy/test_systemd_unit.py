"""The systemd unit: systemd accepts it, and it says what operators rely on."""

import os
import re
import shutil
import subprocess
import sys
import textwrap

from oslo_config import cfg
from oslo_service import opts as service_opts
import pytest

from scheduler_worker.conf import default as default_conf
from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, 'etc/systemd/scheduler-worker.service')
SYSUSERS = os.path.join(ROOT, 'etc/systemd/sysusers.d/scheduler-worker.conf')
UNIT_NAME = os.path.basename(UNIT)
# NOTE: the console script of the environment running the tests, so that
# systemd-analyze verify finds an executable where the unit says
# /usr/bin/scheduler-worker.
WORKER_BIN = os.path.join(os.path.dirname(sys.executable), 'scheduler-worker')


def read_unit(path: str = UNIT) -> dict[str, list[tuple[str, str]]]:
    """Sections of a unit file as (key, value) lists, in order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    with open(path) as unit:
        for line in unit:
            line = line.strip()
            if not line or line[0] in '#;':
                continue
            if line.startswith('['):
                current = sections.setdefault(line.strip('[]'), [])
                continue
            key, _, value = line.partition('=')
            current.append((key.strip(), value.strip()))
    return sections


def directive(section: str, key: str) -> str:
    """The value systemd uses: the last assignment of the key."""
    values = [v for k, v in read_unit()[section] if k == key]
    assert values, '%s= missing from [%s]' % (key, section)
    return values[-1]


def systemd_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        fixtures.unavailable('%s (apt package systemd)' % name)
    return path


@pytest.fixture
def runnable_unit(tmp_path) -> str:
    """A copy of the unit whose ExecStart= names an existing executable."""
    with open(UNIT) as unit:
        text = unit.read()
    text, count = re.subn(r'^ExecStart=/usr/bin/scheduler-worker ',
                          'ExecStart=%s ' % WORKER_BIN, text,
                          flags=re.MULTILINE)
    assert count == 1, 'ExecStart= no longer runs /usr/bin/scheduler-worker'
    copy = tmp_path / UNIT_NAME
    copy.write_text(text)
    return str(copy)


def verify(unit_path: str) -> tuple[int, list[str]]:
    """Exit status of systemd-analyze verify, and its lines about the unit.

    NOTE: verify also loads the units this one depends on from the host and
    may complain about those; only lines naming our unit are ours. It needs
    no systemd as PID 1, nor any flag: --man=no only matters for
    Documentation=man:... entries, which the unit has none of.
    """
    result = subprocess.run(
        [systemd_tool('systemd-analyze'), 'verify', unit_path],
        capture_output=True, text=True, timeout=60,
        cwd=os.path.dirname(unit_path))
    lines = (result.stdout + result.stderr).splitlines()
    return result.returncode, [line for line in lines
                               if os.path.basename(unit_path) in line]


def test_unit_passes_systemd_analyze_verify(runnable_unit):
    returncode, complaints = verify(runnable_unit)
    assert complaints == []
    assert returncode == 0


def test_verify_reports_what_systemd_would_ignore(runnable_unit):
    # systemd ignores an unknown or misspelt directive with a warning and
    # exit status 0: the check above must catch it from the output.
    with open(runnable_unit, 'a') as unit:
        unit.write('[Service]\nProtectSytem=strict\n')
    returncode, complaints = verify(runnable_unit)
    assert returncode == 0
    assert any('ProtectSytem' in line for line in complaints), complaints


def test_readiness_and_reload_come_from_the_worker_processes():
    assert directive('Service', 'Type') == 'notify'
    # READY=1 and WATCHDOG=1 are sent by a child, not by the main PID.
    assert directive('Service', 'NotifyAccess') == 'all'
    assert directive('Service', 'ExecReload') == '/bin/kill -HUP $MAINPID'
    assert directive('Service', 'ExecStart') == (
        '/usr/bin/scheduler-worker --config-file '
        '/etc/scheduler-worker/scheduler-worker.conf')
    assert not [k for k, _ in read_unit()['Service'] if k == 'WatchdogSec']


def test_stop_outlasts_the_graceful_shutdown_timeout():
    # NOTE: the default the launcher uses, as oslo.service registers it.
    conf = cfg.ConfigOpts()
    service_opts.register_service_opts(conf)
    conf([], default_config_files=[], default_config_dirs=[])
    timeout = directive('Service', 'TimeoutStopSec')
    assert re.fullmatch(r'\d+s?', timeout), 'write TimeoutStopSec in seconds'
    assert int(timeout.rstrip('s')) > conf.graceful_shutdown_timeout
    assert directive('Service', 'KillMode') == 'mixed'
    assert directive('Service', 'Restart') == 'on-failure'
    assert directive('Service', 'RestartSec')


def test_state_directory_is_the_default_state_path():
    [state_path] = [opt.default for opt in default_conf.default_opts
                    if opt.name == 'state_path']
    assert state_path == '/var/lib/' + directive('Service', 'StateDirectory')
    config_file = directive('Service', 'ExecStart').split(
        '--config-file ')[1].split()[0]
    assert os.path.dirname(config_file) == '/etc/' + directive(
        'Service', 'ConfigurationDirectory')


def test_runs_unprivileged_and_confined():
    service = dict(read_unit()['Service'])
    assert service['User'] == service['Group'] == 'scheduler-worker'
    for key, value in (('NoNewPrivileges', 'yes'),
                       ('ProtectSystem', 'strict'),
                       ('ProtectHome', 'yes'),
                       ('PrivateTmp', 'yes'),
                       ('PrivateDevices', 'yes'),
                       ('CapabilityBoundingSet', ''),
                       ('MemoryDenyWriteExecute', 'yes'),
                       ('RestrictAddressFamilies',
                        'AF_UNIX AF_INET AF_INET6'),
                       ('SystemCallArchitectures', 'native')):
        assert service.get(key) == value, key


def test_systemd_rates_the_exposure_low(runnable_unit):
    result = subprocess.run(
        [systemd_tool('systemd-analyze'), 'security', '--offline=yes',
         runnable_unit], capture_output=True, text=True, timeout=60)
    match = re.search(r'Overall exposure level for \S+: (\d+\.\d+)',
                      result.stdout)
    assert match, result.stdout + result.stderr
    # NOTE: 0 is a unit that can do nothing, 10 one that can do anything;
    # the unit scores 1.6. A removed hardening directive shows up here.
    assert float(match.group(1)) <= 2.0, result.stdout


def test_sysusers_creates_the_user_the_unit_runs_as(tmp_path):
    (tmp_path / 'etc').mkdir()
    subprocess.run([systemd_tool('systemd-sysusers'), '--root', str(tmp_path),
                    SYSUSERS], check=True, capture_output=True, timeout=60)
    with open(tmp_path / 'etc/passwd') as passwd:
        users = {fields[0]: fields for fields in
                 (line.rstrip('\n').split(':') for line in passwd)}
    with open(tmp_path / 'etc/group') as group:
        groups = {fields[0]: fields for fields in
                  (line.rstrip('\n').split(':') for line in group)}
    user = users[directive('Service', 'User')]
    assert groups[directive('Service', 'Group')][2] == user[3]
    assert int(user[2]) < 1000, 'a system user'
    assert user[5] == '/var/lib/' + directive('Service', 'StateDirectory')
    assert user[6].endswith('nologin')


# NOTE: the kernel's own "memory deny write execute" (Linux >= 6.3):
# prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN) refuses writable+executable
# mappings and making memory executable later, as systemd's
# MemoryDenyWriteExecute= does with seccomp. It cannot be undone, hence a
# child interpreter.
MDWE_PROBE = textwrap.dedent('''
    import ctypes
    import mmap
    import sys

    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        sys.exit(77)
    try:
        mmap.mmap(-1, mmap.PAGESIZE,
                  prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except PermissionError:
        pass
    else:
        sys.exit('a W+X mapping was allowed: the policy is not in force')

    import scheduler_worker.cmd  # noqa: F401
    import psycopg2  # noqa: F401
    import pymysql  # noqa: F401
    import sqlalchemy as sa

    from scheduler_worker.cmd import manage  # noqa: F401
    from scheduler_worker.cmd import worker  # noqa: F401
    from scheduler_worker import service  # noqa: F401

    engine = sa.create_engine('sqlite://')
    with engine.connect() as connection:
        assert connection.execute(sa.text('SELECT 1')).scalar() == 1
    callback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int)(lambda x: x + 1)
    assert callback(1) == 2
    print('ok')
''')


def test_worker_runs_where_memory_cannot_be_writable_and_executable():
    result = subprocess.run([sys.executable, '-c', MDWE_PROBE],
                            capture_output=True, text=True, timeout=120,
                            cwd=ROOT)
    if result.returncode == 77:
        fixtures.unavailable('prctl(PR_SET_MDWE) (Linux >= 6.3)')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == 'ok'
