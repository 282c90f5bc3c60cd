"""Versioned objects. ``objects.Volume`` and friends appear once registered.

Registration imports the modules that talk to the database, so it waits
until an object is first asked for (or register_all() is called): an API
service that only casts through rpcapi never imports the DB layer.
"""

import importlib
import importlib.util

_MODULES = ('scheduler_worker.objects.volume',
            'scheduler_worker.objects.service')


def register_all() -> None:
    for module in _MODULES:
        importlib.import_module(module)


def __getattr__(name: str):
    # NOTE: called only for names not yet set; registration sets them
    # (see base.SchedulerWorkerObjectRegistry.registration_hook).
    # NOTE: a submodule is the import system's to load. ``from
    # scheduler_worker.objects import base`` asks here first; registering
    # then would import the DB layer into an API service that casts.
    if name.startswith('_') or importlib.util.find_spec(
            '%s.%s' % (__name__, name)) is not None:
        raise AttributeError(name)
    register_all()
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(
            "module 'scheduler_worker.objects' has no attribute %r"
            % name) from None
