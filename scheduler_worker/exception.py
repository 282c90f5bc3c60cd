"""Project exceptions, each with a message a user or operator can act on."""

from typing import Any


class SchedulerWorkerException(Exception):
    """Base exception: formats ``msg_fmt`` with the keyword arguments."""

    msg_fmt = 'An unknown exception occurred.'

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                # NOTE: a wrong keyword must not hide the original error.
                message = self.msg_fmt
        self.msg = message
        super().__init__(message)


class Invalid(SchedulerWorkerException):
    msg_fmt = 'Unacceptable parameters: %(reason)s'


class InvalidVolume(Invalid):
    msg_fmt = 'Invalid volume: %(reason)s'


class InvalidMessage(Invalid):
    msg_fmt = 'Cannot handle this message: %(reason)s'


class InvalidContext(Invalid):
    msg_fmt = 'Cannot accept the request context: %(reason)s'


class UnsupportedObject(Invalid):
    msg_fmt = ('Cannot accept object %(name)s %(version)s from namespace '
               '%(namespace)s: %(reason)s')


class InvalidCapabilities(Invalid):
    msg_fmt = 'Ignoring the capability report of %(host)s: %(reason)s'


class NotFound(SchedulerWorkerException):
    msg_fmt = 'Resource could not be found.'


class VolumeNotFound(NotFound):
    msg_fmt = 'Volume %(volume_id)s could not be found.'


class ServiceNotFound(NotFound):
    msg_fmt = 'Service %(binary)s on host %(host)s could not be found.'


class BackendNotFound(NotFound):
    msg_fmt = 'Backend %(host)s is not known.'


class VolumeExists(SchedulerWorkerException):
    msg_fmt = 'Volume %(volume_id)s already exists.'


class NoValidBackend(SchedulerWorkerException):
    msg_fmt = 'No valid backend was found. %(reason)s'


class CapacityClaimFailed(SchedulerWorkerException):
    """A pool had no room left when the claim was made: try the next one."""

    msg_fmt = 'Pool %(pool)s has no room left for %(size)s GiB.'


class Refused(SchedulerWorkerException):
    """A request refused, recorded (volume in error) and reported already.

    ``cause`` is the reason, as Invalid or NoValidBackend said it.
    """

    msg_fmt = 'Request refused: %(cause)s'

    def __init__(self, cause: Exception) -> None:
        super().__init__(cause=cause)
        self.cause = cause


class TemporaryFailure(SchedulerWorkerException):
    msg_fmt = 'Temporary failure, the cast will be handled again: %(reason)s'


class ParameterNotFound(Invalid):
    """Cinder's name for a request spec missing what the method needs."""

    msg_fmt = 'Could not find parameter %(param)s.'
