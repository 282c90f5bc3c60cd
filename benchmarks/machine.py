"""What the figures were measured on: hardware, services, versions."""

from importlib import metadata
import os
import platform
import subprocess

from benchmarks import services

KEY_PACKAGES = ('scheduler-worker', 'oslo.messaging', 'oslo.db',
                'oslo.service', 'oslo.versionedobjects', 'oslo.config',
                'oslo.log', 'kombu', 'amqp', 'SQLAlchemy', 'psycopg2-binary',
                'cotyledon', 'futurist', 'alembic')


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as cpuinfo:
            for line in cpuinfo:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or 'unknown'


def _memory_gib() -> float | None:
    try:
        with open('/proc/meminfo') as meminfo:
            for line in meminfo:
                if line.startswith('MemTotal:'):
                    return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _rabbitmq_version() -> str | None:
    try:
        return services.rabbitmqctl('version').strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _postgresql_version() -> str | None:
    try:
        import psycopg2
        connection = psycopg2.connect(services.PG_ADMIN_DSN,
                                      connect_timeout=10)
        try:
            with connection.cursor() as cursor:
                cursor.execute('SHOW server_version')
                return cursor.fetchone()[0]
        finally:
            connection.close()
    except Exception:
        return None


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ['git', 'describe', '--always', '--dirty'], capture_output=True,
            text=True, timeout=10, check=True,
            cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _versions() -> dict[str, str | None]:
    versions = {}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def describe() -> dict:
    """Everything a reader needs to compare this run with another."""
    return {'cpu_model': _cpu_model(), 'cores': os.cpu_count(),
            'memory_gib': _memory_gib(), 'kernel': platform.release(),
            'python': platform.python_version(),
            'rabbitmq': _rabbitmq_version(),
            'postgresql': _postgresql_version(),
            'load_average_at_start': os.getloadavg(),
            'worker_commit': _git_commit(), 'packages': _versions()}
