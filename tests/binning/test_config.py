"""How events map to frames: the crop and downscale a config resolves to, its errors, its
dict form, the same binning for another sensor, and the bins that cover a span."""

from __future__ import annotations

import pytest

from live_snn.binning import BinningConfig, bins_in
from live_snn.errors import BinningError
from live_snn.events import Resolution


@pytest.mark.parametrize(
    ("sensor", "model", "crop", "factor"),
    [
        ((346, 260), 128, (45, 2, 256, 256), 2),
        ((346, 260), 64, (45, 2, 256, 256), 4),
        ((320, 240), 128, (96, 56, 128, 128), 1),
        ((320, 240), 64, (64, 24, 192, 192), 3),
        ((640, 480), 128, (128, 48, 384, 384), 3),
        ((640, 480), 64, (96, 16, 448, 448), 7),
        ((128, 128), 128, (0, 0, 128, 128), 1),
        ((128, 128), 64, (0, 0, 128, 128), 2),
    ],
)
def test_auto_mapping(sensor, model, crop, factor):
    mapping = BinningConfig(10_000, Resolution.of(sensor), Resolution(model, model)).mapping()
    assert mapping.crop == crop and mapping.factor == factor
    assert mapping.width == model * factor
    text = mapping.describe()
    assert f"{sensor[0]}x{sensor[1]} sensor" in text and f"{model}x{model} model" in text
    if factor > 1:
        assert f"÷{factor}" in text
    if crop[2:] != sensor:
        assert f"centre crop {crop[2]}x{crop[3]} at ({crop[0]},{crop[1]})" in text


def test_explicit_mapping_and_its_errors():
    sensor, model = Resolution(346, 260), Resolution(64, 64)
    mapping = BinningConfig(1000, sensor, model, crop=(0, 0, 128, 128)).mapping()
    assert mapping.factor == 2 and "crop 128x128 at (0,0)" in mapping.describe()
    assert BinningConfig(1000, sensor, model, downscale=2).mapping().crop == (109, 66, 128, 128)

    with pytest.raises(BinningError, match="does not fit"):
        BinningConfig(1000, sensor, model, crop=(300, 0, 128, 128))
    with pytest.raises(BinningError, match="integer downscale"):
        BinningConfig(1000, sensor, model, crop=(0, 0, 130, 130))
    with pytest.raises(BinningError, match="larger than the 346x260 sensor"):
        BinningConfig(1000, sensor, model, downscale=5)
    with pytest.raises(BinningError, match="smaller than the 128x128 model"):
        BinningConfig(1000, Resolution(34, 34), Resolution(128, 128))
    with pytest.raises(BinningError, match="dt_us"):
        BinningConfig(0, sensor, model)
    with pytest.raises(BinningError, match="dt_us"):
        BinningConfig(2.5, sensor, model)


def test_config_round_trips_through_a_dict():
    config = BinningConfig(
        5000, Resolution(346, 260), Resolution(64, 64), crop=(45, 2, 256, 256), downscale=4
    )
    assert BinningConfig.from_dict(config.as_dict()) == config
    with pytest.raises(BinningError, match="dt_us"):
        BinningConfig.from_dict({"sensor": [346, 260], "model": [64, 64]})


def test_for_sensor_keeps_an_explicit_mapping_only_for_its_own_sensor():
    config = BinningConfig(5000, Resolution(346, 260), Resolution(64, 64), crop=(0, 0, 128, 128),
                           tolerate_time_reversal=True)
    assert config.for_sensor(Resolution(346, 260)) is config
    other = config.for_sensor(Resolution(128, 128))
    assert (other.dt_us, other.model, other.sensor) == (5000, Resolution(64, 64),
                                                          Resolution(128, 128))
    assert other.crop is None and other.downscale is None and other.tolerate_time_reversal
    assert other.mapping().factor == 2
    with pytest.raises(BinningError, match="smaller than the 64x64 model"):
        config.for_sensor(Resolution(34, 34))


def test_bins_in_is_the_ceiling_of_span_over_dt():
    assert [bins_in(span, 10_000) for span in (0, 1, 9_999, 10_000, 10_001, 25_000)] == [
        0, 1, 1, 1, 2, 3]
