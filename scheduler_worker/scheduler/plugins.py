"""Loading filters and weighers by name from their entry points (stevedore)."""

from oslo_config import cfg
from stevedore import named


def load(namespace: str, conf: cfg.ConfigOpts, names: list[str]) -> list:
    """Instances of the named plugins, built with ``conf``, in that order.

    An unknown name raises ValueError: a worker must not start with a
    filter silently missing.
    """
    def missing(unknown):
        raise ValueError('Unknown %s: %s (check [scheduler] '
                         'default_filters and default_weighers)'
                         % (namespace, ', '.join(sorted(unknown))))

    manager = named.NamedExtensionManager(
        namespace, names, invoke_on_load=True, invoke_args=(conf,),
        name_order=True, on_missing_entrypoints_callback=missing,
        propagate_map_exceptions=True)
    return [extension.obj for extension in manager]
