"""Fixtures of the real-Cinder lab: one deployment per module and scheduler.

Every test here is marked ``interop``. A module asks for ``lab`` and runs
once per scheduler of ``SCHEDULERS``: Cinder's own cinder-scheduler, and
our worker in Cinder mode in its place (``lab.SCHEDULER_WORKER``).
"""

import pytest

from tests.interop import lab as lab_module

# NOTE: Cinder's first, ours second: each module runs its tests against
# one lab, then the other, asserting the same end states.
SCHEDULERS = [lab_module.CINDER_SCHEDULER, lab_module.SCHEDULER_WORKER]


def pytest_collection_modifyitems(config, items):
    for item in items:
        if '/tests/interop/' in str(item.fspath):
            item.add_marker(pytest.mark.interop)


@pytest.fixture(scope='module', params=SCHEDULERS,
                ids=lambda slot: slot.name)
def lab(request, tmp_path_factory):
    """A started Cinder lab with the scheduler slot filled by ``param``."""
    deployment = lab_module.CinderLab(
        tmp_path_factory.mktemp('cinder-lab'), request.param)
    try:
        deployment.start()
    except BaseException:
        print(deployment.tails(60))
        deployment.close()
        raise
    yield deployment
    deployment.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        for value in getattr(item, 'funcargs', {}).values():
            if isinstance(value, lab_module.CinderLab):
                report.sections.append(('cinder lab logs (tails)',
                                        value.tails()))
    return report


def pytest_terminal_summary(terminalreporter):
    """Figures the interop tests report rather than assert (see
    test_burst), printed where CI's log shows them."""
    figures = [value for reports in terminalreporter.stats.values()
               for report in reports
               for name, value in getattr(report, 'user_properties', ())
               if name == 'interop figure' and report.when == 'call']
    if figures:
        terminalreporter.section('interop figures')
        for figure in figures:
            terminalreporter.write_line(figure)
