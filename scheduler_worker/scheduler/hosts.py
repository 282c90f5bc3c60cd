"""Cinder's host strings: ``host@backend#pool``, split and joined."""

# NOTE: Cinder's name for the pool of a backend that reports none.
DEFAULT_POOL_NAME = '_pool0'

LEVELS = ('host', 'backend', 'pool')


def extract_host(host: str, level: str = 'backend',
                 default_pool_name: bool = False) -> str | None:
    """A part of a host string, as Cinder's volume_utils.extract_host.

    For ``host = 'HostA@BackendB#PoolC'``: level 'host' gives 'HostA',
    'backend' gives 'HostA@BackendB', 'pool' gives 'PoolC'. A host without
    a pool gives None for 'pool', or '_pool0' with ``default_pool_name``.
    """
    if level not in LEVELS:
        raise ValueError('level must be one of %s, not %r'
                         % (', '.join(LEVELS), level))
    backend, _, pool = host.partition('#')
    if level == 'host':
        return backend.split('@')[0]
    if level == 'backend':
        return backend
    if pool:
        return pool
    return DEFAULT_POOL_NAME if default_pool_name else None


def append_host(host: str | None, pool: str | None) -> str | None:
    """``host#pool``, as Cinder's volume_utils.append_host."""
    if not host or not pool:
        return host
    return '%s#%s' % (host, pool)


def matches(pool_host: str, requested: str) -> bool:
    """Whether a pool (host@backend#pool) is what ``requested`` names.

    A request naming a pool matches that pool only; one naming a backend
    (host@backend) matches each of its pools.
    """
    if '#' in requested:
        return pool_host == requested
    return extract_host(pool_host, 'backend') == requested
