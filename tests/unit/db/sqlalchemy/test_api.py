from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import engines
import pytest

from scheduler_worker.db.sqlalchemy import api
from tests import fixtures


@pytest.mark.parametrize('url', [
    'postgresql+psycopg2://postgres@127.0.0.1:%d/x',
    'mysql+pymysql://root@127.0.0.1:%d/x'])
def test_refused_connection_is_a_retriable_connection_error(url):
    engine = engines.create_engine(url % fixtures.free_port(), max_retries=0)
    with pytest.raises(db_exc.DBConnectionError) as raised:
        with engine.connect():
            pass
    assert isinstance(raised.value, api.TEMPORARY_ERRORS)
