"""Cinder backend of the DB API: Cinder's database, with our tables in it.

Selected by ``[database] backend = cinder``. Our own tables (outbox,
backends, pools, handled casts) are worked on by the sqlalchemy
backend's functions, in the same transactions (the same enginefacade
context manager, exception filters and TEMPORARY_ERRORS); the volume,
service and pool functions are Cinder's tables' versions.
"""

import sys

from scheduler_worker.db.sqlalchemy import api as sqla_api

main_context_manager = sqla_api.main_context_manager
TEMPORARY_ERRORS = sqla_api.TEMPORARY_ERRORS

get_engine = sqla_api.get_engine
pool_checked_out = sqla_api.pool_checked_out
outbox_add = sqla_api.outbox_add
outbox_send = sqla_api.outbox_send
outbox_stats = sqla_api.outbox_stats
backend_report = sqla_api.backend_report
backend_get = sqla_api.backend_get
backend_get_all = sqla_api.backend_get_all


def get_backend():
    """The backend is this module (oslo.db's DBAPI contract)."""
    return sys.modules[__name__]
