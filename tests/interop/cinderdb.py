"""Direct reads of the lab's Cinder database, for what REST does not show."""

import sqlalchemy as sa


class CinderDB:
    """Read-only helpers over Cinder 29's schema (rows as dicts)."""

    def __init__(self, url: str) -> None:
        self.url = url
        # NOTE: one connection kept (and checked before use): polling
        # must not need a new slot of a PostgreSQL that others fill too.
        self.engine = sa.create_engine(url, pool_size=1, max_overflow=1,
                                       pool_pre_ping=True)

    def rows(self, sql: str, **params) -> list[dict]:
        with self.engine.connect() as connection:
            return [dict(row._mapping)
                    for row in connection.execute(sa.text(sql), params)]

    def alembic_version(self) -> str:
        return self.rows('SELECT version_num FROM alembic_version')[0][
            'version_num']

    def volumes(self, ids=None) -> dict[str, dict]:
        """{id: row} of volumes (not deleted), or of ``ids`` only."""
        rows = self.rows('SELECT * FROM volumes WHERE NOT deleted')
        return {row['id']: row for row in rows
                if ids is None or row['id'] in ids}

    def services(self, binary: str | None = None) -> list[dict]:
        rows = self.rows('SELECT * FROM services WHERE NOT deleted '
                         'ORDER BY id')
        return [row for row in rows if binary in (None, row['binary'])]

    def messages(self, resource_uuid: str | None = None) -> list[dict]:
        rows = self.rows('SELECT * FROM messages ORDER BY id')
        return [row for row in rows
                if resource_uuid in (None, row['resource_uuid'])]

    def workers(self, resource_id: str | None = None) -> list[dict]:
        rows = self.rows('SELECT * FROM workers ORDER BY id')
        return [row for row in rows
                if resource_id in (None, row['resource_id'])]

    def close(self) -> None:
        self.engine.dispose()
