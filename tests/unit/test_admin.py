"""The admin endpoint: what it refuses before touching a logger."""

import logging

import pytest

from scheduler_worker import admin
from scheduler_worker import context
from scheduler_worker import log_levels
from tests import fixtures


@pytest.fixture
def endpoint():
    return admin.AdminEndpoint(fixtures.make_conf())


@pytest.fixture
def logger():
    """A logger of its own at WARNING, its level restored after."""
    log = logging.getLogger('sw-admin-unit')
    kept = log.level
    log.setLevel(logging.WARNING)
    yield log
    log.setLevel(kept)


def test_set_log_levels_without_a_level_is_refused(endpoint, logger):
    with pytest.raises(log_levels.InvalidLogRequest) as raised:
        endpoint.set_log_levels(context.get_admin_context(),
                                log_request={'prefix': 'sw-admin-unit'})
    assert 'level is required' in str(raised.value)
    assert logger.level == logging.WARNING


def test_set_then_get_log_levels_in_process(endpoint, logger):
    ctxt = context.get_admin_context()
    endpoint.set_log_levels(ctxt, log_request={'prefix': 'sw-admin-unit',
                                               'level': 'error'})
    reply = endpoint.get_log_levels(ctxt,
                                    log_request={'prefix': 'sw-admin-unit'})
    assert [item['versioned_object.data'] for item in
            reply['versioned_object.data']['objects']] == [
        {'prefix': 'sw-admin-unit', 'level': 'ERROR'}]
