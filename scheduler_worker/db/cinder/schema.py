"""Our tables in Cinder's database: the standalone models' own tables.

The same models as standalone mode (scheduler_worker.db.sqlalchemy.
models), on a MetaData holding only the tables Cinder mode creates: the
outbox, backends, pools and handled casts. Standalone's volumes,
volume_metadata and services have Cinder's tables in their place.
"""

import sqlalchemy as sa

from scheduler_worker.db.sqlalchemy import models

TABLES = ('scheduler_worker_outbox', 'scheduler_worker_backends',
          'scheduler_worker_pools', 'scheduler_worker_handled_casts')

metadata = sa.MetaData(naming_convention=models.NAMING_CONVENTION)
for _name in TABLES:
    models.Base.metadata.tables[_name].to_metadata(metadata)
