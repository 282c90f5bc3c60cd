"""Whether the scheduler has heard from the volume services since it started.

Cinder's scheduler asks every service for its capabilities at start, then
holds back placement until the first report or driver_init_wait_time
(reference §3.4). Casts are received meanwhile; those that place wait.
"""

import threading
import time


class Readiness:
    """Set by the first volume report; waiting ends then or at the deadline."""

    def __init__(self, wait_time: float) -> None:
        self._reported = threading.Event()
        self._deadline = time.monotonic() + wait_time
        if wait_time <= 0:
            self._reported.set()

    def reported(self) -> None:
        self._reported.set()

    def stop(self) -> None:
        """End every wait: the service stops, and the casts waiting must
        finish (they place on what the database has)."""
        self._reported.set()

    def wait(self) -> bool:
        """Block until a report came, the service stops, or the wait time
        is over; False only in the last case."""
        return self._reported.wait(max(0.0, self._deadline -
                                       time.monotonic()))
