"""The worker's config file for one variant: base options, overrides."""

import dataclasses
import os


@dataclasses.dataclass
class Variant:
    """One worker configuration to measure: a label, processes, overrides.

    ``lean``: the benchmark's lean reference runs in the worker's place,
    with ``workers`` processes (the settings then only shape the config
    that ``db sync`` and the queue declaration use). ``source``: a source
    tree whose ``scheduler_worker`` the worker runs (put first on its
    PYTHONPATH), to hold two builds side by side in one run.
    """

    label: str
    workers: int = 1
    settings: list[tuple[str, str, str]] = dataclasses.field(
        default_factory=list)
    lean: bool = False
    source: str | None = None


def parse_setting(text: str) -> tuple[str, str, str]:
    """``group.option=value`` (``option=value`` for [DEFAULT])."""
    key, sep, value = text.partition('=')
    key = key.strip()
    if not sep or not key:
        raise ValueError('expected group.option=value, not %r' % text)
    group, _, option = key.rpartition('.')
    return group or 'DEFAULT', option, value.strip()


def parse_variant(spec: str, base: list[tuple[str, str, str]],
                  workers: int) -> Variant:
    """``[label:]option=value;group.option=value;...`` over the base.

    Items are separated by semicolons, since list options take commas.
    ``workers=K`` sets [DEFAULT] workers, ``source=DIR`` the source tree
    the worker runs (e.g. a checkout of main); without a label, the spec
    is one.
    """
    label, sep, body = spec.partition(':')
    if not sep or '=' in label:
        # NOTE: no label; the colon, if any, is in a value (a URL).
        label, body = spec, spec
    variant = Variant(label=label.strip() or 'default', workers=workers,
                      settings=list(base))
    for item in filter(None, (part.strip() for part in body.split(';'))):
        group, option, value = parse_setting(item)
        if (group, option) == ('DEFAULT', 'workers'):
            variant.workers = int(value)
        elif (group, option) == ('DEFAULT', 'source'):
            variant.source = _source_tree(value)
        else:
            variant.settings.append((group, option, value))
    if variant.workers < 1:
        raise ValueError('workers must be at least 1 in %r' % spec)
    return variant


def _source_tree(path: str) -> str:
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isfile(os.path.join(path, 'scheduler_worker',
                                       '__init__.py')):
        raise ValueError('source=%s holds no scheduler_worker package'
                         % path)
    return path


def default_variants(workers: int,
                     base: list[tuple[str, str, str]]) -> list[Variant]:
    """What a run without --variant measures: the defaults, and with two
    processes (each is held against the lean reference with as many)."""
    variants = [Variant('default', workers, list(base))]
    if workers == 1:
        variants.append(Variant('two-processes', 2, list(base)))
    return variants


def process_counts(variants: list[Variant]) -> list[int]:
    """The lean reference's process counts: 1, and each variant's."""
    return sorted({1} | {variant.workers for variant in variants})


def sections(transport_url: str, database_url: str, topic: str, host: str,
             log_file: str, variant: Variant) -> dict[str, dict[str, str]]:
    """The options of one run: its vhost, database, topic, then overrides."""
    config = {
        'DEFAULT': {'transport_url': transport_url, 'host': host,
                    'control_exchange': 'openstack',
                    'workers': str(variant.workers), 'log_file': log_file},
        'database': {'connection': database_url},
        'scheduler': {'topic': topic},
        'oslo_messaging_notifications': {'driver': 'messagingv2',
                                         'topics': 'notifications'},
    }
    for group, option, value in variant.settings:
        config.setdefault(group, {})[option] = value
    return config


def render(config: dict[str, dict[str, str]]) -> str:
    """INI text as oslo.config reads it, [DEFAULT] first."""
    lines = []
    for group in sorted(config, key=lambda name: name != 'DEFAULT'):
        lines.append('[%s]' % group)
        lines.extend('%s = %s' % item for item in config[group].items())
        lines.append('')
    return '\n'.join(lines)
