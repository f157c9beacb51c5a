"""How events become frames: :class:`BinningConfig` (bin length, sensor and model
resolutions, crop, downscale) and the :class:`SpatialMapping` it resolves to, a crop box in
sensor pixels then an integer downscale that sums ``f×f`` sensor pixels into one model pixel
(counts are added, never averaged). :func:`bins_in` counts the bins that cover a span."""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass

from live_snn.errors import BinningError
from live_snn.events import Resolution


def bins_in(span_us: int, dt_us: int) -> int:
    """How many ``dt_us``-long bins it takes to cover ``span_us`` (the last one partly):
    ``ceil(span_us / dt_us)``, in integers."""
    return -(-span_us // dt_us)


@dataclass(frozen=True)
class SpatialMapping:
    """Where model pixels come from: the crop box ``(x0, y0, width, height)`` in sensor
    pixels, then sum-pooling by ``factor`` (``width = model.width · factor``)."""

    sensor: Resolution
    model: Resolution
    x0: int
    y0: int
    width: int
    height: int
    factor: int

    @property
    def crop(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.width, self.height)

    @property
    def is_full_sensor(self) -> bool:
        return (self.width, self.height) == (self.sensor.width, self.sensor.height)

    @property
    def is_centred(self) -> bool:
        return (
            self.x0 == (self.sensor.width - self.width) // 2
            and self.y0 == (self.sensor.height - self.height) // 2
        )

    def describe(self) -> str:
        """One line for logs, the CLI and the GUI, e.g. ``346x260 sensor → centre crop
        256x256 at (45,2) → ÷2 (sum of 2x2 pixels) → 128x128 model``."""
        if self.is_full_sensor:
            crop = "full sensor"
        else:
            kind = "centre crop" if self.is_centred else "crop"
            crop = f"{kind} {self.width}x{self.height} at ({self.x0},{self.y0})"
        scale = (
            f"÷{self.factor} (sum of {self.factor}x{self.factor} pixels)"
            if self.factor > 1
            else "no downscale"
        )
        return f"{self.sensor} sensor → {crop} → {scale} → {self.model} model"


def as_int(value: object, name: str) -> int:
    if isinstance(value, bool):
        raise BinningError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise BinningError(f"{name} must be an integer, got {value!r}") from None


def resolve_mapping(
    sensor: Resolution,
    model: Resolution,
    crop: tuple[int, int, int, int] | None,
    downscale: int | None,
) -> SpatialMapping:
    if crop is not None:
        x0, y0, width, height = crop
        if width <= 0 or height <= 0:
            raise BinningError(f"crop {width}x{height} at ({x0},{y0}) has no area")
        if x0 < 0 or y0 < 0 or x0 + width > sensor.width or y0 + height > sensor.height:
            raise BinningError(
                f"crop {width}x{height} at ({x0},{y0}) does not fit in the {sensor} sensor"
            )
        factor = downscale if downscale is not None else width // model.width
        if factor < 1 or (width, height) != (model.width * factor, model.height * factor):
            wanted = (
                f"{model.width * factor}x{model.height * factor} for ÷{factor}"
                if factor >= 1
                else f"at least {model}"
            )
            raise BinningError(
                f"crop {width}x{height} does not map onto the {model} model by an integer "
                f"downscale: expected a crop of {wanted}"
            )
        return SpatialMapping(sensor, model, x0, y0, width, height, factor)

    if downscale is not None:
        factor = downscale
        if factor < 1:
            raise BinningError(f"downscale must be >= 1, got {factor}")
    else:
        # Largest integer factor whose field of view fits; a bigger view needs a bigger factor.
        factor = min(sensor.width // model.width, sensor.height // model.height)
        if factor < 1:
            raise BinningError(
                f"the {sensor} sensor is smaller than the {model} model input; padding is not "
                f"supported: choose a model resolution of at most {sensor}"
            )
    width, height = model.width * factor, model.height * factor
    if width > sensor.width or height > sensor.height:
        raise BinningError(
            f"downscale ÷{factor} needs a {width}x{height} field of view, larger than the "
            f"{sensor} sensor"
        )
    x0, y0 = (sensor.width - width) // 2, (sensor.height - height) // 2
    return SpatialMapping(sensor, model, x0, y0, width, height, factor)


@dataclass(frozen=True)
class BinningConfig:
    """How events become frames. Stored in checkpoints: a model runs on the binning it was
    trained with. ``crop=None`` centres the crop; ``downscale=None`` takes the largest integer
    factor whose field of view fits in the sensor. Invalid combinations raise
    :class:`BinningError` at construction."""

    dt_us: int
    sensor: Resolution
    model: Resolution
    crop: tuple[int, int, int, int] | None = None
    downscale: int | None = None
    tolerate_time_reversal: bool = False

    def __post_init__(self) -> None:
        dt_us = as_int(self.dt_us, "dt_us")
        if dt_us <= 0:
            raise BinningError(f"dt_us must be a positive number of microseconds, got {dt_us}")
        object.__setattr__(self, "dt_us", dt_us)
        object.__setattr__(self, "sensor", Resolution.of(self.sensor))
        object.__setattr__(self, "model", Resolution.of(self.model))
        if self.crop is not None:
            if len(self.crop) != 4:
                raise BinningError(f"crop must be (x0, y0, width, height), got {self.crop!r}")
            crop = tuple(as_int(v, "crop value") for v in self.crop)
            object.__setattr__(self, "crop", crop)
        if self.downscale is not None:
            object.__setattr__(self, "downscale", as_int(self.downscale, "downscale"))
        object.__setattr__(self, "tolerate_time_reversal", bool(self.tolerate_time_reversal))
        self.mapping()  # fail now, not at the first event

    def mapping(self) -> SpatialMapping:
        return resolve_mapping(self.sensor, self.model, self.crop, self.downscale)

    def for_sensor(self, sensor: Resolution) -> BinningConfig:
        """This binning for events of another sensor: same dt and model resolution; the crop
        and downscale carry over only for the same sensor, else they are chosen for it
        (centred crop, largest integer downscale). Raises :class:`BinningError` when the
        sensor cannot be mapped onto the model."""
        if sensor == self.sensor:
            return self
        return dataclasses.replace(self, sensor=sensor, crop=None, downscale=None)

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        return (2, self.model.height, self.model.width)

    def as_dict(self) -> dict:
        """JSON-ready form (checkpoint metadata)."""
        return {
            "dt_us": self.dt_us,
            "sensor": [self.sensor.width, self.sensor.height],
            "model": [self.model.width, self.model.height],
            "crop": list(self.crop) if self.crop is not None else None,
            "downscale": self.downscale,
            "tolerate_time_reversal": self.tolerate_time_reversal,
        }

    @classmethod
    def from_dict(cls, data: dict) -> BinningConfig:
        try:
            return cls(
                dt_us=data["dt_us"],
                sensor=Resolution.of(data["sensor"]),
                model=Resolution.of(data["model"]),
                crop=tuple(data["crop"]) if data.get("crop") is not None else None,
                downscale=data.get("downscale"),
                tolerate_time_reversal=data.get("tolerate_time_reversal", False),
            )
        except KeyError as exc:
            raise BinningError(
                f"binning config lacks the field {exc.args[0]!r}: {data!r}"
            ) from None

