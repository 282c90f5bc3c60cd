"""The installed version of scheduler-worker, as pbr reports it."""

import pbr.version

version_info = pbr.version.VersionInfo('scheduler-worker')
