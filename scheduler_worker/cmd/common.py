"""What every console script does first: options, configuration, logging."""

import sys
from typing import NoReturn

from oslo_config import cfg
from oslo_log import log

from scheduler_worker import conf
from scheduler_worker import version
from scheduler_worker.conf import libraries


def register_options(config: cfg.ConfigOpts) -> None:
    """Our options and the libraries', with the defaults we document.

    Before the configuration is parsed: the libraries' defaults are
    process-wide, which only a console script may decide.
    """
    libraries.set_defaults()
    conf.register_opts(config)
    libraries.register_opts(config)


def setup(program: str) -> cfg.ConfigOpts:
    """Parse the command line and config files; set up logging."""
    register_options(conf.CONF)
    conf.CONF(sys.argv[1:], project='scheduler-worker',
              version=version.version_info.version_string())
    log.setup(conf.CONF, program)
    return conf.CONF


def key_values(pairs: list[str] | None, option: str) -> dict[str, str]:
    """A repeatable KEY=VALUE option as a dict; exits on a malformed pair."""
    values = {}
    for pair in pairs or []:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise SystemExit('%s takes KEY=VALUE, not %r' % (option, pair))
        values[key] = value
    return values


def run_subcommand(opt: cfg.SubCommandOpt, program: str) -> NoReturn:
    """Run the function the chosen sub-command set; exit with its status."""
    conf.CONF.register_cli_opt(opt)
    setup(program)
    sys.exit(getattr(conf.CONF, opt.dest).func())
