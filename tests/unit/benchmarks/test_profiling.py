"""Hot spots from py-spy's raw (collapsed) stacks."""

from benchmarks import profiling


def test_summarize_counts_self_and_inclusive_shares(tmp_path):
    raw = tmp_path / 'profile.txt'
    raw.write_text(
        'thread (0x1);run (a.py);insert (db.py);execute (sa.py) 6\n'
        'thread (0x1);run (a.py);notify (n.py) 3\n'
        'thread (0x2);run (a.py) 1\n')
    summary = profiling.summarize([str(raw)])
    assert summary['samples'] == 10
    assert summary['self'][0] == {'function': 'execute (sa.py)',
                                  'pct': 60.0}
    inclusive = {e['function']: e['pct'] for e in summary['inclusive']}
    assert inclusive == {'run (a.py)': 100.0, 'insert (db.py)': 60.0,
                         'execute (sa.py)': 60.0, 'notify (n.py)': 30.0}
    assert summary['packages'] == [{'package': 'sa', 'pct': 60.0},
                                   {'package': 'n', 'pct': 30.0},
                                   {'package': 'a', 'pct': 10.0}]


def test_package_is_the_top_level_of_the_frame_path():
    assert profiling.package(
        'do_execute (sqlalchemy/engine/default.py)') == 'sqlalchemy'
    assert profiling.package('Handler.acquire (logging/__init__.py)') == (
        'logging')
    assert profiling.package('Condition.wait (threading.py)') == 'threading'
    assert profiling.package(
        '_find_and_load (<frozen importlib._bootstrap>)') == 'python (frozen)'


def test_summarize_of_an_empty_profile_says_so(tmp_path):
    raw = tmp_path / 'profile.txt'
    raw.write_text('')
    assert profiling.summarize([str(raw)]) == {'samples': 0}
