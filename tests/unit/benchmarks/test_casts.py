"""Cast bodies: valid oslo.messaging envelopes, fresh ids, the publish time."""

import json

from benchmarks import casts


def _message(body: str) -> dict:
    envelope = json.loads(body)
    assert envelope['oslo.version'] == '2.0'
    return json.loads(envelope['oslo.message'])


def test_mix_alternates_cinder_and_plain_casts_with_fresh_ids():
    mix = casts.CastMix()
    (first_id, first), (second_id, second), (third_id, _) = (
        mix.next(), mix.next(), mix.next())
    cinder, plain = _message(first), _message(second)
    volume = cinder['args']['volume']
    assert volume['versioned_object.namespace'] == 'cinder'
    assert volume['versioned_object.data']['id'] == first_id
    spec = cinder['args']['request_spec']['versioned_object.data']
    assert spec['volume_id'] == first_id
    assert spec['volume']['versioned_object.data']['id'] == first_id
    assert plain['args']['volume']['id'] == second_id
    assert plain['method'] == cinder['method'] == 'create_volume'
    assert len({first_id, second_id, third_id}) == 3
    assert cinder['_unique_id'] != plain['_unique_id']


def test_timestamped_casts_carry_the_publish_time_in_metadata():
    mix = casts.CastMix(timestamped=True)
    _, cinder = mix.next(1764338964.25)
    _, plain = mix.next(1764338964.5)
    metadata = _message(cinder)['args']['volume']['versioned_object.data'][
        'metadata']
    assert metadata['bench_t'] == '1764338964.250000'
    assert metadata['purpose'] == 'wire-sample'
    assert _message(plain)['args']['volume']['metadata']['bench_t'] == (
        '1764338964.500000')


def test_sizes_report_both_bodies():
    sizes = casts.CastMix().sizes()
    assert sizes['cinder'] > 5000 > sizes['plain'] > 500
