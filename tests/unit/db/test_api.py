"""The DB API facade reads its options when first used, not at import."""

import subprocess
import sys
import textwrap


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
