import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def test_config_sample_is_up_to_date(tmp_path):
    generated = tmp_path / 'scheduler-worker.conf.sample'
    generator = os.path.join(os.path.dirname(sys.executable),
                             'oslo-config-generator')
    subprocess.run(
        [generator, '--config-file',
         os.path.join(ROOT, 'etc/oslo-config-generator/scheduler-worker.conf'),
         '--output-file', str(generated)],
        check=True, cwd=ROOT, capture_output=True)
    committed = os.path.join(ROOT,
                             'etc/scheduler-worker/scheduler-worker.conf.sample')
    with open(committed) as f:
        assert generated.read_text() == f.read(), (
            'The sample is stale: run "make sample" and commit the result.')


def test_sample_documents_the_contract_defaults():
    with open(os.path.join(
            ROOT, 'etc/scheduler-worker/scheduler-worker.conf.sample')) as f:
        sample = f.read()
    for line in ('#transport_url = rabbit://guest:guest@127.0.0.1:5672/',
                 '#control_exchange = openstack',
                 '#host = localhost',
                 '#connection = sqlite:///$state_path/scheduler_worker.sqlite',
                 '#driver = messagingv2',
                 '#topics = notifications',
                 '#topic = scheduler-worker'):
        assert line in sample.splitlines(), line
