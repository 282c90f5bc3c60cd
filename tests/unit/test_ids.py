import os
import threading
import uuid

from scheduler_worker import ids


def test_ids_are_random_uuids_as_uuid4_makes_them():
    drawn = [ids.uuid4() for _ in range(3 * ids.BULK + 5)]
    assert len(set(drawn)) == len(drawn)
    assert {(u.version, u.variant) for u in drawn} == {(4, uuid.RFC_4122)}
    text = ids.generate_uuid()
    assert str(uuid.UUID(text)) == text


def test_threads_draw_ids_of_their_own():
    drawn = {}

    def draw(name):
        drawn[name] = {ids.uuid4() for _ in range(ids.BULK)}
    threads = [threading.Thread(target=draw, args=(n,)) for n in 'ab']
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(drawn['a']) == len(drawn['b']) == ids.BULK
    assert not drawn['a'] & drawn['b']


def test_a_forked_child_never_repeats_its_parents_ids():
    ids.uuid4()  # this thread now holds drawn bytes
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.write(write, ''.join(ids.uuid4().hex
                                for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = pipe.read()
    os.waitpid(pid, 0)
    parent = {ids.uuid4().hex for _ in range(10)}
    assert len(child) == 320
    assert not parent & {child[i:i + 32] for i in range(0, 320, 32)}
