"""Worker config files for benchmark variants: options, overrides, labels."""

import configparser

import pytest

from benchmarks import workerconf


def test_parse_setting_defaults_to_the_default_group():
    assert workerconf.parse_setting('workers=2') == ('DEFAULT', 'workers',
                                                     '2')
    assert workerconf.parse_setting('scheduler.batch_size = 100') == (
        'scheduler', 'batch_size', '100')


@pytest.mark.parametrize('text', ['batch_size', '=3', ''])
def test_parse_setting_refuses_what_is_not_an_assignment(text):
    with pytest.raises(ValueError):
        workerconf.parse_setting(text)


def test_variant_takes_label_workers_and_settings_over_the_base():
    base = [('oslo_messaging_rabbit', 'rabbit_qos_prefetch_count', '100')]
    variant = workerconf.parse_variant(
        'batched:workers=2;scheduler.batch_size=100', base, workers=1)
    assert variant.label == 'batched'
    assert variant.workers == 2
    assert variant.settings == base + [('scheduler', 'batch_size', '100')]


def test_variant_values_may_hold_commas():
    variant = workerconf.parse_variant(
        'quiet:default_log_levels=amqp=WARN,scheduler_worker=WARN', [], 1)
    assert variant.settings == [
        ('DEFAULT', 'default_log_levels', 'amqp=WARN,scheduler_worker=WARN')]


def test_variant_without_label_is_named_by_its_spec():
    variant = workerconf.parse_variant('workers=2', [], workers=1)
    assert (variant.label, variant.workers) == ('workers=2', 2)


def test_variant_without_label_may_hold_a_url():
    variant = workerconf.parse_variant(
        'database.connection=postgresql://h/db', [], workers=1)
    assert variant.settings == [('database', 'connection',
                                 'postgresql://h/db')]


def test_variant_source_names_a_tree_to_run_not_an_option(tmp_path):
    (tmp_path / 'scheduler_worker').mkdir()
    (tmp_path / 'scheduler_worker' / '__init__.py').write_text('')
    variant = workerconf.parse_variant(
        'main:source=%s;scheduler.batch_size=8' % tmp_path, [], workers=1)
    assert variant.source == str(tmp_path)
    assert variant.settings == [('scheduler', 'batch_size', '8')]


def test_variant_source_refuses_a_tree_without_the_package(tmp_path):
    with pytest.raises(ValueError, match='no scheduler_worker'):
        workerconf.parse_variant('main:source=%s' % tmp_path, [], workers=1)


def test_variant_refuses_zero_workers():
    with pytest.raises(ValueError):
        workerconf.parse_variant('workers=0', [], workers=1)


def test_rendered_config_reads_back_with_overrides_last():
    variant = workerconf.Variant('v', workers=3, settings=[
        ('scheduler', 'topic', 'overridden'), ('database', 'max_pool_size',
                                               '20')])
    text = workerconf.render(workerconf.sections(
        'rabbit://guest:guest@127.0.0.1:5672/vh', 'postgresql://db',
        'topic-1', 'bench-host', '/tmp/w.log', variant))
    parser = configparser.ConfigParser()
    parser.read_string(text)
    assert text.startswith('[DEFAULT]')
    assert parser['DEFAULT']['workers'] == '3'
    assert parser['DEFAULT']['transport_url'].endswith('/vh')
    assert parser['scheduler']['topic'] == 'overridden'
    assert parser['database']['connection'] == 'postgresql://db'
    assert parser['database']['max_pool_size'] == '20'
    assert parser['oslo_messaging_notifications']['driver'] == 'messagingv2'


def test_a_run_without_variants_measures_one_process_and_two():
    base = [('scheduler', 'batch_size', '32')]
    variants = workerconf.default_variants(1, base)
    assert [(v.label, v.workers, v.settings, v.lean) for v in variants] == [
        ('default', 1, base, False), ('two-processes', 2, base, False)]
    assert [v.label for v in workerconf.default_variants(3, [])] == [
        'default']


def test_the_lean_reference_runs_with_one_process_and_each_variants():
    variants = [workerconf.Variant('a', 3), workerconf.Variant('b', 2),
                workerconf.Variant('c', 3)]
    assert workerconf.process_counts(variants) == [1, 2, 3]
    assert workerconf.process_counts([workerconf.Variant('a')]) == [1]
