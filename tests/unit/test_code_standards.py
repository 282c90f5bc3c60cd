"""The code keeps the shape the project agreed on (STYLE.md)."""

import configparser
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def _run(*command):
    return subprocess.run(command, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_import_layers_and_forbidden_imports_are_kept():
    result = _run(os.path.join(BIN, 'lint-imports'), '.importlinter')
    assert result.returncode == 0, result.stdout + result.stderr
    assert '0 broken' in result.stdout


def test_ruff_is_clean():
    result = _run(os.path.join(BIN, 'ruff'), 'check', 'scheduler_worker',
                  'tests', 'benchmarks')
    assert result.returncode == 0, result.stdout + result.stderr


def test_unit_tree_mirrors_the_package():
    """Every unit test module names a module of the code it tests.

    tests/unit/X/test_Y.py tests scheduler_worker/X/Y.py, and
    tests/unit/benchmarks/ the benchmarks/ harness.
    """
    unit = os.path.join(ROOT, 'tests', 'unit')
    allowed = {'test_code_standards.py'}
    orphans = []
    for folder, _, files in os.walk(unit):
        relative = os.path.relpath(folder, unit)
        top = relative.split(os.sep)[0]
        base = os.path.join(ROOT, relative) if top == 'benchmarks' else \
            os.path.join(ROOT, 'scheduler_worker', relative)
        for name in files:
            if not name.startswith('test_') or name in allowed:
                continue
            module = name[len('test_'):]
            if not (os.path.exists(os.path.join(base, module)) or
                    os.path.isdir(os.path.join(base, module[:-3]))):
                orphans.append(os.path.join(relative, name))
    assert orphans == []


def _layers() -> list[str]:
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, '.importlinter'))
    lines = parser['importlinter:contract:layers']['layers'].split('\n')
    return [name.strip().strip('()') for line in lines
            for name in line.split('|') if name.strip()]


def _package_modules() -> list[str]:
    package = os.path.join(ROOT, 'scheduler_worker')
    modules = []
    for folder, _, files in os.walk(package):
        dotted = os.path.relpath(folder, ROOT).replace(os.sep, '.')
        modules += ['%s.%s' % (dotted, name[:-3]) if name != '__init__.py'
                    else dotted for name in files if name.endswith('.py')]
    return modules


def test_every_module_is_in_a_layer_of_the_import_contract():
    """A module in no layer escapes the contract: its imports go unchecked."""
    layers = _layers()
    assert 'scheduler_worker.cmd' in layers and len(layers) > 10
    outside = [module for module in _package_modules()
               if module != 'scheduler_worker' and not any(
                   module == layer or module.startswith(layer + '.')
                   for layer in layers)]
    assert outside == [], 'add these to a layer in .importlinter'
