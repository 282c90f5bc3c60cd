"""Versioned objects. ``objects.Volume`` and friends appear once registered.

Registration imports the modules that talk to the database, so it waits
until an object is first asked for (or register_all() is called): an API
service that only casts through rpcapi never imports the DB layer.
"""

import importlib

_MODULES = ('scheduler_worker.objects.volume',
            'scheduler_worker.objects.service')


def register_all() -> None:
    for module in _MODULES:
        importlib.import_module(module)


def __getattr__(name: str):
    # NOTE: called only for names not yet set; registration sets them
    # (see base.SchedulerWorkerObjectRegistry.registration_hook).
    if name.startswith('_'):
        raise AttributeError(name)
    register_all()
    try:
        return globals()[name]
    except KeyError:
        raise AttributeError(
            "module 'scheduler_worker.objects' has no attribute %r"
            % name) from None
