"""scheduler-worker-manage: schema, services and volumes, cinder-manage style.

    scheduler-worker-manage [--config-file FILE] db sync [VERSION]
    scheduler-worker-manage db version
    scheduler-worker-manage service list
    scheduler-worker-manage volume list [--host H] [--status S] [--limit N]
    scheduler-worker-manage volume show ID
    scheduler-worker-manage backend list
    scheduler-worker-manage backend show HOST@BACKEND[#POOL]
    scheduler-worker-manage backend register HOST@BACKEND#POOL \
        --total-gb N [--free-gb N] [--availability-zone AZ] [--thin] \
        [--max-over-subscription-ratio R] [--reserved-percentage P] \
        [--capability KEY=VALUE ...]
"""

import sys

from oslo_config import cfg

from scheduler_worker import conf
from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import objects
from scheduler_worker.cmd import common
from scheduler_worker.db import api as db
from scheduler_worker.db import migration
from scheduler_worker.scheduler import backends
from scheduler_worker.scheduler import hosts

CONF = conf.CONF


def _table(headers: list[str], rows: list[list]) -> None:
    rows = [['-' if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows])
              for i, h in enumerate(headers)]
    line = '  '.join('%%-%ds' % w for w in widths)
    print(line % tuple(headers))
    for row in rows:
        print(line % tuple(row))


class DbCommands:
    """Database schema."""

    def sync(self) -> int:
        cinder = db.is_cinder(CONF)
        try:
            migration.db_sync(CONF.category.version or 'head', cinder=cinder)
        except migration.CinderSchemaRefused as exc:
            print('Refused: %s' % exc, file=sys.stderr)
            return 1
        print('Database schema at %s%s' % (
            migration.db_version(cinder=cinder),
            ' (our tables in a Cinder database)' if cinder else ''))
        return 0

    def version(self) -> int:
        current = migration.db_version(cinder=db.is_cinder(CONF))
        print(current or 'None (never synced; run "db sync")')
        return 0


class ServiceCommands:
    """Workers and their heartbeats."""

    def list(self) -> int:
        services = objects.ServiceList.get_all(context.get_admin_context())
        rows = [[s.binary, s.host, 'up' if s.is_up(CONF.service_down_time)
                 else 'down', 'disabled' if s.disabled else 'enabled',
                 s.updated_at, s.report_count] for s in services]
        _table(['Binary', 'Host', 'State', 'Status', 'Updated At',
                'Reports'], rows)
        return 0


class VolumeCommands:
    """Volumes the workers persisted."""

    def list(self) -> int:
        args = CONF.category
        filters = {key: value for key, value in (('host', args.volume_host),
                                                 ('status', args.status))
                   if value is not None}
        volumes = objects.VolumeList.get_all(context.get_admin_context(),
                                             filters, args.limit)
        rows = [[v.id, v.status, v.size, v.host, v.availability_zone,
                 v.display_name, v.created_at] for v in volumes]
        _table(['ID', 'Status', 'Size', 'Host', 'AZ', 'Name',
                'Created At'], rows)
        return 0

    def show(self) -> int:
        try:
            volume = objects.Volume.get_by_id(context.get_admin_context(),
                                              CONF.category.volume_id)
        except exception.VolumeNotFound as exc:
            print(exc, file=sys.stderr)
            return 1
        _table(['Field', 'Value'],
               [[name, getattr(volume, name)] for name in sorted(
                   volume.fields) if volume.obj_attr_is_set(name)])
        return 0


def _pairs(pairs: list[str] | None) -> dict[str, str]:
    values = {}
    for pair in pairs or []:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise SystemExit('--capability takes KEY=VALUE, not %r' % pair)
        values[key] = value
    return values


class BackendCommands:
    """Volume backends and their pools, as every worker sees them."""

    def _rows(self, backend) -> list[list]:
        state = 'static' if backend['static'] else (
            'up' if backends.is_up(backend, CONF.scheduler.backend_down_time)
            else 'down')
        return [[p['host'], p['availability_zone'], state,
                 p['capabilities'].get('total_capacity_gb'),
                 p['capabilities'].get('free_capacity_gb'),
                 p['allocated_gb'], p['physical_limit_gb'],
                 p['virtual_limit_gb'], backend['updated_at']]
                for p in backend['pools']]

    def _print(self, found) -> None:
        _table(['Pool', 'AZ', 'State', 'Total GiB', 'Free GiB',
                'Claimed GiB', 'Limit GiB', 'Thin Limit GiB', 'Reported At'],
               [row for backend in found for row in self._rows(backend)])

    def list(self) -> int:
        self._print(db.backend_get_all(context.get_admin_context()))
        return 0

    def show(self) -> int:
        host = CONF.category.backend_host
        try:
            backend = db.backend_get(context.get_admin_context(),
                                     hosts.extract_host(host, 'backend'))
        except exception.BackendNotFound as exc:
            print(exc, file=sys.stderr)
            return 1
        _table(['Field', 'Value'], [
            [name, backend[name]] for name in (
                'host', 'service_name', 'cluster_name', 'static',
                'reported_at', 'updated_at', 'capabilities')])
        for pool in backend['pools']:
            if '#' in host and pool['host'] != host:
                continue
            print()
            _table(['Pool %s' % pool['host'], 'Value'], [
                [name, pool[name]] for name in (
                    'availability_zone', 'allocated_gb', 'physical_limit_gb',
                    'virtual_limit_gb', 'deleted')] + [
                [key, value] for key, value in sorted(
                    pool['capabilities'].items())])
        return 0

    def register(self) -> int:
        args = CONF.category
        if args.total_gb < 0 or (args.free_gb or 0) < 0:
            raise SystemExit('--total-gb and --free-gb cannot be negative')
        registry = backends.BackendRegistry(CONF)
        try:
            backend = registry.register_static(
                context.get_admin_context(), args.pool_host,
                total_gb=args.total_gb, free_gb=args.free_gb,
                availability_zone=args.availability_zone, thin=args.thin,
                max_over_subscription_ratio=args.max_over_subscription_ratio,
                reserved_percentage=args.reserved_percentage,
                extra=_pairs(args.capability))
        except exception.Invalid as exc:
            print(exc, file=sys.stderr)
            return 1
        self._print([backend])
        return 0


def _add_backend_parsers(subparsers) -> None:
    backend = subparsers.add_parser('backend', help=BackendCommands.__doc__)
    actions = backend.add_subparsers(dest='action', required=True)
    actions.add_parser('list', help='List pools: zone, state, capacity, '
                       'claims.').set_defaults(func=BackendCommands().list)
    show = actions.add_parser('show', help='Show a backend or pool with its '
                              'capabilities.')
    show.add_argument('backend_host', metavar='HOST@BACKEND[#POOL]')
    show.set_defaults(func=BackendCommands().show)
    register = actions.add_parser(
        'register', help='Register a pool that never expires (no volume '
        'service reports it): for tests and small deployments.')
    register.add_argument('pool_host', metavar='HOST@BACKEND#POOL')
    register.add_argument('--total-gb', type=float, required=True)
    register.add_argument('--free-gb', type=float,
                          help='default: the total')
    register.add_argument('--availability-zone',
                          help='default: [scheduler] '
                          'default_availability_zone')
    register.add_argument('--thin', action='store_true',
                          help='thin provisioning (default: thick)')
    register.add_argument('--max-over-subscription-ratio',
                          help='thin pools: a float or "auto"')
    register.add_argument('--reserved-percentage', type=float, default=0)
    register.add_argument('--capability', nargs='*', metavar='KEY=VALUE',
                          help='extra capabilities, matched by volume '
                          'type extra specs')
    register.set_defaults(func=BackendCommands().register)


def add_command_parsers(subparsers) -> None:
    db = subparsers.add_parser('db', help=DbCommands.__doc__)
    db_actions = db.add_subparsers(dest='action', required=True)
    sync = db_actions.add_parser('sync', help='Upgrade the schema.')
    sync.add_argument('version', nargs='?', help='Target revision '
                      '(default: the newest).')
    sync.set_defaults(func=DbCommands().sync)
    db_actions.add_parser('version', help='Show the schema revision.'
                          ).set_defaults(func=DbCommands().version)

    service = subparsers.add_parser('service', help=ServiceCommands.__doc__)
    service_actions = service.add_subparsers(dest='action', required=True)
    service_actions.add_parser('list', help='List workers, up or down.'
                               ).set_defaults(func=ServiceCommands().list)

    volume = subparsers.add_parser('volume', help=VolumeCommands.__doc__)
    volume_actions = volume.add_subparsers(dest='action', required=True)
    vlist = volume_actions.add_parser('list', help='List volumes, newest '
                                      'first.')
    vlist.add_argument('--host', dest='volume_host')
    vlist.add_argument('--status')
    vlist.add_argument('--limit', type=int, default=100)
    vlist.set_defaults(func=VolumeCommands().list)
    show = volume_actions.add_parser('show', help='Show one volume.')
    show.add_argument('volume_id', metavar='ID')
    show.set_defaults(func=VolumeCommands().show)

    _add_backend_parsers(subparsers)


category_opt = cfg.SubCommandOpt('category', title='Command categories',
                                 handler=add_command_parsers)


def main() -> None:
    common.run_subcommand(category_opt, 'scheduler-worker-manage')
