"""Choosing a pool for a volume: reports, filters, weighers, capacity claims.

capabilities.py turns a backend's report into pool records; backends.py
stores them (every worker shares them through the database); pool_state.py
is a pool as filters and weighers see it; request.py what a volume asks
for; driver.py runs filters and weighers. The claim itself is made by
db.api.volume_create, in the transaction that inserts the volume.
"""
