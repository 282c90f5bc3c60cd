"""Random (version 4) UUIDs for the hot path, their bytes drawn in bulk.

uuid.uuid4() reads 16 bytes with os.urandom(), which lets go of the
interpreter lock for the system call: back from it, the thread waits for
the lock while another one runs Python, up to the switch interval. Every
notification takes two ids (its message id, oslo.messaging's unique id),
so a batch of casts made dozens of those waits. Here a thread reads the
bytes of BULK ids at once; a forked child starts with none of its
parent's, or parent and child would hand out the same ids.
"""

import os
import threading
import uuid

BULK = 256

_drawn = threading.local()


def _forget_drawn() -> None:
    global _drawn
    _drawn = threading.local()


os.register_at_fork(after_in_child=_forget_drawn)


def uuid4() -> uuid.UUID:
    """A random UUID, as uuid.uuid4() gives, from this thread's bytes."""
    left = getattr(_drawn, 'left', None)
    if not left:
        raw = os.urandom(16 * BULK)
        left = _drawn.left = [raw[i:i + 16] for i in range(0, len(raw), 16)]
    return uuid.UUID(bytes=left.pop(), version=4)


def generate_uuid() -> str:
    """uuidutils.generate_uuid(), from this thread's bytes."""
    return str(uuid4())
