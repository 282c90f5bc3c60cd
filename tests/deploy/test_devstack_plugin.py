"""The devstack plugin: what each phase asks of a stubbed devstack.

Each phase runs in bash the way stack.sh runs it (settings, then plugin.sh
sourced with the phase as arguments), under errexit and nounset. Every
devstack function the plugin may call is a stub that records its name and
arguments; a call to anything else (a misspelt or unstubbed function, or a
command missing from the machine) fails the phase.
"""

import configparser
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from tests import fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
SETTINGS = os.path.join(ROOT, 'devstack/settings')
PLUGIN = os.path.join(ROOT, 'devstack/plugin.sh')

CONF = '/etc/scheduler-worker/scheduler-worker.conf'
TRANSPORT_URL = 'rabbit://stackrabbit:secret@192.0.2.10:5672/'
DB_URL = 'mysql+pymysql://root:secret@192.0.2.10/%s?charset=utf8'
SEP = '\x1f'

STUBS = textwrap.dedent(r'''
    set -o errexit -o nounset -o pipefail

    # One line per call: the name and the arguments, split by \x1f so that
    # an argument with spaces stays one argument.
    function _record {
        local IFS=$'\x1f'
        printf '%s\n' "$*" >> "$CALLS"
    }
    function command_not_found_handle {
        _record UNDEFINED "$@"
        return 127
    }

    # Globals stack.sh defines before it sources plugins.
    DEST=/opt/stack
    DATA_DIR=/opt/stack/data
    STACK_USER=stack
    ENABLE_DEBUG_LOG_LEVEL=True

    function define_plugin { _record define_plugin "$@"; }
    function enable_service { _record enable_service "$@"; }
    function disable_service { _record disable_service "$@"; }
    # devstack's own normalisation (functions-common), recorded.
    function trueorfalse {
        _record trueorfalse "$@"
        local testval=${!2:-}
        case "$testval" in
            "1" | [yY]es | "YES" | [tT]rue | "TRUE" ) echo "True" ;;
            "0" | [nN]o | "NO" | [fF]alse | "FALSE" ) echo "False" ;;
            * ) echo "$1" ;;
        esac
    }
    function is_service_enabled {
        _record is_service_enabled "$@"
        [[ ",$ENABLED_SERVICES," == *",$1,"* ]]
    }
    function echo_summary { _record echo_summary "$@"; }
    function get_python_exec_prefix {
        _record get_python_exec_prefix "$@"
        echo "$FAKE_BIN"
    }
    function setup_develop { _record setup_develop "$@"; }
    function pip_install { _record pip_install "$@"; }
    function install_package { _record install_package "$@"; }
    function iniset { _record iniset "$@"; }
    function setup_logging { _record setup_logging "$@"; }
    function get_transport_url {
        _record get_transport_url "$@"
        echo "$TRANSPORT_URL"
    }
    function database_connection_url {
        _record database_connection_url "$@"
        printf "$DB_URL\n" "$1"
    }
    function recreate_database { _record recreate_database "$@"; }
    function run_process { _record run_process "$@"; }
    function stop_process { _record stop_process "$@"; }
    # Nothing may touch this machine's /etc or /opt.
    function sudo { _record sudo "$@"; }
    function rm { _record rm "$@"; }

    before=$(set +o | grep xtrace)
    source "$SETTINGS"
    source "$PLUGIN" "$@"
    # plugin.sh must leave xtrace as stack.sh had it.
    _record xtrace "$before" "$(set +o | grep xtrace)"
''')

# Recorded each time settings is sourced, whatever the phase.
SETTINGS_CALLS = [['define_plugin', 'scheduler-worker'],
                  ['enable_service', 'scheduler-worker'],
                  ['get_python_exec_prefix'],
                  ['trueorfalse', 'False', 'SCHEDULER_WORKER_REPLACE_CSCH']]
# ... and when the worker replaces cinder-scheduler.
REPLACE_CALLS = SETTINGS_CALLS + [['disable_service', 'c-sch']]
REPLACE = {'SCHEDULER_WORKER_REPLACE_CSCH': 'True'}

PHASES = (('stack', 'install'), ('stack', 'post-config'), ('stack', 'extra'),
          ('unstack',), ('clean',))


@pytest.fixture
def run_phase(tmp_path):
    """Run `plugin.sh PHASE...`; return the calls plugin.sh made."""
    fake_bin = tmp_path / 'bin'
    fake_bin.mkdir()
    calls = tmp_path / 'calls'
    # NOTE: an executable, not a function: plugin.sh runs the CLI by path.
    manage = fake_bin / 'scheduler-worker-manage'
    manage.write_text('#!/bin/bash\nIFS=$\'\\x1f\'\n'
                      'printf "%s\\n" "scheduler-worker-manage$IFS$*" '
                      '>> "$CALLS"\n')
    manage.chmod(0o755)
    harness = tmp_path / 'harness.sh'
    harness.write_text(STUBS)

    def record(*phase: str, enabled: str = 'scheduler-worker',
               **local_conf: str) -> list:
        """Every call of settings and plugin.sh for ``phase``."""
        calls.write_text('')
        # NOTE: a clean environment, so that the defaults of settings are
        # what is tested, not the variables of whoever runs the tests.
        env = {'PATH': os.environ['PATH'], 'HOSTNAME': 'node1',
               'CALLS': str(calls), 'FAKE_BIN': str(fake_bin),
               'SETTINGS': SETTINGS, 'PLUGIN': PLUGIN,
               'TRANSPORT_URL': TRANSPORT_URL, 'DB_URL': DB_URL,
               'ENABLED_SERVICES': enabled, **local_conf}
        result = subprocess.run(['bash', str(harness), *phase], env=env,
                                capture_output=True, text=True, timeout=60)
        recorded = [line.split(SEP) for line in
                    calls.read_text().splitlines()]
        assert result.returncode == 0, (result.stderr, recorded)
        *made, xtrace = recorded
        assert xtrace == ['xtrace', 'set +o xtrace', 'set +o xtrace']
        return made

    def settings_part(recorded: list) -> list:
        end = len(SETTINGS_CALLS)
        assert recorded[:end] == SETTINGS_CALLS
        if recorded[end:end + 1] == [REPLACE_CALLS[-1]]:
            end += 1
        return recorded[:end]

    def run(*phase: str, **kwargs: str) -> list:
        """The calls plugin.sh made (after those of settings)."""
        recorded = record(*phase, **kwargs)
        return recorded[len(settings_part(recorded)):]

    def settings(**local_conf: str) -> list:
        """The calls settings made."""
        return settings_part(record('stack', 'pre-install', **local_conf))

    run.settings = settings
    run.bin = str(fake_bin)
    return run


def test_install_installs_the_checkout(run_phase):
    assert run_phase('stack', 'install') == [
        ['is_service_enabled', 'scheduler-worker'],
        ['echo_summary', 'Installing scheduler-worker'],
        ['setup_develop', '/opt/stack/scheduler-worker']]


def _iniset(calls: list) -> dict:
    return {(c[2], c[3]): c[4] for c in calls if c[0] == 'iniset'}


def test_post_config_writes_the_configuration(run_phase):
    calls = run_phase('stack', 'post-config')
    assert ['sudo', 'install', '-d', '-o', 'stack', '-m', '755',
            '/etc/scheduler-worker'] in calls
    assert ['sudo', 'install', '-d', '-o', 'stack', '-m', '750',
            '/opt/stack/data/scheduler-worker'] in calls
    assert {c[1] for c in calls if c[0] == 'iniset'} == {CONF}
    assert _iniset(calls) == {
        ('DEFAULT', 'debug'): 'True',
        ('DEFAULT', 'host'): 'node1',
        ('DEFAULT', 'state_path'): '/opt/stack/data/scheduler-worker',
        ('DEFAULT', 'workers'): '1',
        ('DEFAULT', 'transport_url'): TRANSPORT_URL,
        ('scheduler', 'topic'): 'scheduler-worker',
        ('database', 'connection'): DB_URL % 'scheduler_worker',
        ('oslo_messaging_notifications', 'driver'): 'messagingv2'}
    assert ['database_connection_url', 'scheduler_worker'] in calls
    assert ['setup_logging', CONF] in calls


def test_post_config_starts_from_an_empty_file(run_phase):
    calls = run_phase('stack', 'post-config')
    first_iniset = next(i for i, c in enumerate(calls) if c[0] == 'iniset')
    assert calls.index(['rm', '-f', CONF]) < first_iniset


def test_post_config_syncs_a_new_database_after_writing_its_url(run_phase):
    calls = run_phase('stack', 'post-config')
    sync = calls.index(['scheduler-worker-manage', '--config-file', CONF,
                        'db', 'sync'])
    assert calls.index(['recreate_database', 'scheduler_worker']) < sync
    last_iniset = max(i for i, c in enumerate(calls) if c[0] == 'iniset')
    assert last_iniset < sync
    # db sync is the only schema step: nothing else runs the CLI.
    assert [c for c in calls if c[0] == 'scheduler-worker-manage'] == [
        calls[sync]]


@pytest.mark.parametrize('local_conf', [{}, REPLACE],
                         ids=['standalone', 'replace-c-sch'])
def test_post_config_writes_only_options_the_worker_knows(run_phase,
                                                          tmp_path,
                                                          local_conf):
    parser = configparser.ConfigParser(interpolation=None)
    for (section, key), value in _iniset(
            run_phase('stack', 'post-config', **local_conf)).items():
        if section != 'DEFAULT' and not parser.has_section(section):
            parser.add_section(section)
        parser.set(section, key, value)
    written = tmp_path / 'scheduler-worker.conf'
    with open(written, 'w') as f:
        parser.write(f)
    validator = os.path.join(os.path.dirname(sys.executable),
                             'oslo-config-validator')
    # NOTE: oslo.config ignores unknown options; the validator compares
    # the file with the options of every namespace the sample documents.
    result = subprocess.run(
        [validator, '--config-file',
         os.path.join(ROOT, 'etc/oslo-config-generator/scheduler-worker.conf'),
         '--input-file', str(written), '--fatal-warnings'],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_local_conf_overrides_the_defaults(run_phase):
    calls = run_phase('stack', 'post-config',
                      SCHEDULER_WORKER_TOPIC='cinder-scheduler',
                      SCHEDULER_WORKER_WORKERS='4',
                      SCHEDULER_WORKER_HOST='sched-1',
                      SCHEDULER_WORKER_DB_NAME='sw')
    options = _iniset(calls)
    assert options['scheduler', 'topic'] == 'cinder-scheduler'
    assert options['DEFAULT', 'workers'] == '4'
    assert options['DEFAULT', 'host'] == 'sched-1'
    assert options['database', 'connection'] == DB_URL % 'sw'
    assert ['recreate_database', 'sw'] in calls


def _disabled(run_phase, **local_conf) -> list:
    """Services settings disables (recorded by any phase)."""
    return [c[1:] for c in run_phase.settings(**local_conf)
            if c[0] == 'disable_service']


def test_cinder_scheduler_stays_unless_replaced(run_phase):
    assert _disabled(run_phase) == []
    assert _disabled(run_phase, SCHEDULER_WORKER_REPLACE_CSCH='no') == []


@pytest.mark.parametrize('value', ['True', 'true', 'yes', '1'])
def test_replacing_disables_cinder_scheduler(run_phase, value):
    assert _disabled(run_phase, SCHEDULER_WORKER_REPLACE_CSCH=value) == [
        ['c-sch']]


def test_replacing_writes_the_cinder_mode_configuration(run_phase):
    # NOTE: a topic of local.conf cannot win: c-api casts to this one.
    calls = run_phase('stack', 'post-config', SCHEDULER_WORKER_TOPIC='mine',
                      **REPLACE)
    assert _iniset(calls) == {
        ('DEFAULT', 'debug'): 'True',
        ('DEFAULT', 'host'): 'node1',
        ('DEFAULT', 'state_path'): '/opt/stack/data/scheduler-worker',
        ('DEFAULT', 'workers'): '1',
        ('DEFAULT', 'transport_url'): TRANSPORT_URL,
        ('scheduler', 'topic'): 'cinder-scheduler',
        ('database', 'backend'): 'cinder',
        ('database', 'connection'): DB_URL % 'cinder',
        ('oslo_messaging_notifications', 'driver'): 'messagingv2'}
    assert ['database_connection_url', 'cinder'] in calls


def test_replacing_leaves_cinders_database_and_conf_alone(run_phase):
    calls = run_phase('stack', 'post-config', **REPLACE)
    # No recreate_database (it would drop Cinder's), no db sync before
    # Cinder's schema exists, and cinder.conf is never written.
    assert [c for c in calls if c[0] in (
        'recreate_database', 'scheduler-worker-manage')] == []
    assert {c[1] for c in calls if c[0] == 'iniset'} == {CONF}


def test_replacing_syncs_our_tables_then_starts_the_worker(run_phase):
    assert run_phase('stack', 'extra', **REPLACE) == [
        ['is_service_enabled', 'scheduler-worker'],
        ['scheduler-worker-manage', '--config-file', CONF, 'db', 'sync'],
        ['echo_summary', 'Starting scheduler-worker'],
        ['run_process', 'scheduler-worker',
         '%s/scheduler-worker --config-file %s' % (run_phase.bin, CONF)]]


def test_extra_runs_the_worker_with_the_written_configuration(run_phase):
    assert run_phase('stack', 'extra') == [
        ['is_service_enabled', 'scheduler-worker'],
        ['echo_summary', 'Starting scheduler-worker'],
        ['run_process', 'scheduler-worker',
         '%s/scheduler-worker --config-file %s' % (run_phase.bin, CONF)]]


def test_unstack_stops_the_worker(run_phase):
    assert run_phase('unstack') == [
        ['is_service_enabled', 'scheduler-worker'],
        ['stop_process', 'scheduler-worker']]


def test_clean_removes_configuration_and_state(run_phase):
    assert run_phase('clean') == [
        ['is_service_enabled', 'scheduler-worker'],
        ['sudo', 'rm', '-rf', '/etc/scheduler-worker',
         '/opt/stack/data/scheduler-worker']]


@pytest.mark.parametrize('phase', [('stack', 'pre-install'),
                                   ('stack', 'test-config')])
def test_other_phases_do_nothing(run_phase, phase):
    assert run_phase(*phase) == [['is_service_enabled', 'scheduler-worker']]


@pytest.mark.parametrize('phase', PHASES)
def test_nothing_runs_when_the_service_is_disabled(run_phase, phase):
    assert run_phase(*phase, enabled='mysql,rabbit') == [
        ['is_service_enabled', 'scheduler-worker']]


@pytest.mark.parametrize('path', [SETTINGS, PLUGIN])
def test_scripts_parse(path):
    result = subprocess.run(['bash', '-n', path], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_scripts_pass_shellcheck():
    shellcheck = shutil.which('shellcheck')
    if shellcheck is None:
        fixtures.unavailable('shellcheck (apt package shellcheck)')
    # NOTE: no exclusions needed: settings assigns VAR=${VAR:-default},
    # which reads each variable too, so SC2034 (assigned, never used) stays
    # quiet though only plugin.sh uses them; nothing is sourced by path.
    result = subprocess.run(
        [shellcheck, '--shell=bash', '--severity=style', SETTINGS, PLUGIN],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
