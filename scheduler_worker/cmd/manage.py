"""scheduler-worker-manage: schema, services and volumes, cinder-manage style.

    scheduler-worker-manage [--config-file FILE] db sync [VERSION]
    scheduler-worker-manage db version
    scheduler-worker-manage service list
    scheduler-worker-manage volume list [--host H] [--status S] [--limit N]
    scheduler-worker-manage volume show ID
"""

import sys

from oslo_config import cfg
from oslo_log import log

from scheduler_worker import conf
from scheduler_worker import context
from scheduler_worker import exception
from scheduler_worker import objects
from scheduler_worker import version
from scheduler_worker.db import migration

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
        migration.db_sync(CONF.category.version or 'head')
        print('Database schema at %s' % migration.db_version())
        return 0

    def version(self) -> int:
        current = migration.db_version()
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


category_opt = cfg.SubCommandOpt('category', title='Command categories',
                                 handler=add_command_parsers)


def main() -> None:
    CONF.register_cli_opt(category_opt)
    CONF(sys.argv[1:], project='scheduler-worker',
         version=version.version_info.version_string())
    log.setup(CONF, 'scheduler-worker-manage')
    sys.exit(CONF.category.func())
