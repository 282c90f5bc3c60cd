"""scheduler-worker-cast: cast create_volume from a shell, as an API would.

    scheduler-worker-cast [--config-file FILE] create-volume --size 1 \\
        [--name N] [--description D] [--availability-zone AZ] \\
        [--volume-type-id UUID] [--host H@B#P] [--metadata KEY=VALUE ...] \\
        [--id UUID] [--user-id U] [--project-id P] [--count N]

Prints the id of each volume cast. The cast goes through
scheduler_worker.rpcapi.SchedulerAPI, to [DEFAULT] transport_url and
[scheduler] topic.
"""


from oslo_config import cfg

from scheduler_worker import conf
from scheduler_worker import context
from scheduler_worker import rpcapi
from scheduler_worker.cmd import common

CONF = conf.CONF


def create_volume() -> int:
    args = CONF.command
    if args.count > 1 and args.id:
        raise SystemExit('--id names one volume; it cannot go with --count')
    ctxt = context.RequestContext(user_id=args.user_id,
                                  project_id=args.project_id)
    api = rpcapi.SchedulerAPI(CONF)
    for _ in range(args.count):
        volume = {'size': args.size, 'display_name': args.display_name,
                  'display_description': args.display_description,
                  'availability_zone': args.availability_zone,
                  'volume_type_id': args.volume_type_id,
                  'host': args.volume_host,
                  'user_id': args.user_id, 'project_id': args.project_id,
                  'metadata': common.key_values(args.metadata, '--metadata'),
                  'status': 'creating', 'attach_status': 'detached'}
        if args.id:
            volume['id'] = args.id
        print(api.create_volume(ctxt, volume))
    return 0


def add_command_parsers(subparsers) -> None:
    parser = subparsers.add_parser('create-volume',
                                   help='Cast create_volume.')
    parser.add_argument('--size', type=int, required=True, help='GiB')
    parser.add_argument('--name', dest='display_name')
    parser.add_argument('--description', dest='display_description')
    parser.add_argument('--availability-zone')
    parser.add_argument('--volume-type-id')
    parser.add_argument('--host', dest='volume_host',
                        help='host@backend#pool; default: let '
                        'the worker choose')
    parser.add_argument('--metadata', nargs='*', metavar='KEY=VALUE')
    parser.add_argument('--id', help='volume UUID; default: a new one')
    parser.add_argument('--user-id', default='scheduler-worker-cast')
    parser.add_argument('--project-id', default='scheduler-worker-cast')
    parser.add_argument('--count', type=int, default=1,
                        help='cast this many volumes')
    parser.set_defaults(func=create_volume)


command_opt = cfg.SubCommandOpt('command', title='Commands',
                                handler=add_command_parsers)


def main() -> None:
    common.run_subcommand(command_opt, 'scheduler-worker-cast')
