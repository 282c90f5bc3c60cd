"""Console scripts; importing this package selects the threading backend.

NOTE: this must run before anything imports oslo_messaging or
oslo_service.service: their first import picks a backend, eventlet unless
told otherwise, and the choice cannot be changed afterwards.
"""

import warnings

# NOTE: futurist probes for eventlet by importing it, and eventlet warns at
# import that it is deprecated: noise, since nothing here runs on eventlet.
warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

from oslo_service import backend  # noqa: E402

backend.init_backend(backend.BackendType.THREADING)
