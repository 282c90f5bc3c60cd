"""Errors a Cinder caller receives as Cinder's own exception classes.

oslo.messaging names a call's failure by its class's ``__module__`` and
name; cinder-api re-raises it as that class when the module is in its
allowed_remote_exmods (``cinder.exception``), with the sent ``kwargs``,
and answers as Cinder would (e.g. 404 for VolumeTypeNotFoundByName).
Anything else becomes a RemoteError, HTTP 500 (reference §7 trap 15).
"""

from typing import Any

CINDER_MODULE = 'cinder.exception'


class CinderError(Exception):
    """Base: ``msg_fmt`` formatted with the kwargs, as CinderException."""

    msg_fmt = 'An unknown exception occurred.'

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        super().__init__(self.msg_fmt % kwargs)


class VolumeTypeNotFoundByName(CinderError):
    msg_fmt = 'Volume type with name %(volume_type_name)s could not be found.'


# NOTE: set after the class body: oslo.messaging and cinder-api read it,
# and no import path leads here under that name.
VolumeTypeNotFoundByName.__module__ = CINDER_MODULE
