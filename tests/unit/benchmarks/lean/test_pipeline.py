"""How the lean reference gathers a batch: full, or once the window shut."""

from benchmarks.lean.pipeline import Gatherer


class Feed:
    """Deliveries as the broker would make them, on a clock of our own.

    Each step is (seconds until it happens, message or None); a step
    later than the drain's timeout times the drain out, as a socket
    would, with the clock moved on by the timeout.
    """

    def __init__(self, steps: list[tuple[float, object]]) -> None:
        self.steps = list(steps)
        self.now = 0.0
        self.gatherer: Gatherer | None = None
        self.timeouts: list[float] = []

    def clock(self) -> float:
        return self.now

    def drain(self, timeout: float) -> None:
        if not self.steps or self.steps[0][0] > timeout:
            self.timeouts.append(timeout)
            self.now += timeout
            if self.steps:
                self.steps[0] = (self.steps[0][0] - timeout, self.steps[0][1])
            raise TimeoutError()
        delay, message = self.steps.pop(0)
        self.now += delay
        if message is not None:
            self.gatherer.add(message)


def _gatherer(steps, size=64, window=0.002) -> tuple[Gatherer, Feed]:
    feed = Feed(steps)
    feed.gatherer = Gatherer(feed.drain, size=size, window=window,
                             clock=feed.clock)
    return feed.gatherer, feed


def test_a_batch_waits_for_its_first_cast_however_idle_the_queue():
    gatherer, feed = _gatherer([(3.5, 'a')])
    assert gatherer.next_batch(idle=1.0) == ['a']
    assert feed.timeouts[:3] == [1.0, 1.0, 1.0]


def test_a_lone_cast_goes_once_the_window_shut():
    gatherer, feed = _gatherer([(0.0, 'a'), (0.5, 'late')])
    assert gatherer.next_batch() == ['a']
    assert feed.now == 0.002
    assert gatherer.next_batch() == ['late']


def test_a_batch_takes_what_arrives_within_the_window():
    gatherer, _ = _gatherer([(0.0, 'a'), (0.0005, 'b'), (0.0005, 'c'),
                             (0.0015, 'too late')])
    assert gatherer.next_batch() == ['a', 'b', 'c']
    assert gatherer.next_batch() == ['too late']


def test_a_full_batch_goes_at_once_and_leaves_the_rest_for_the_next():
    gatherer, feed = _gatherer([(0.0, n) for n in range(5)], size=3)
    assert gatherer.next_batch() == [0, 1, 2]
    assert feed.timeouts == []
    assert gatherer.next_batch() == [3, 4]


def test_events_that_are_not_casts_do_not_close_the_window():
    gatherer, _ = _gatherer([(0.0, 'a'), (0.0005, None), (0.0005, 'b')])
    assert gatherer.next_batch() == ['a', 'b']
