"""What ``live-snn train`` checks of its data before the first step, so that a run never
trains for hours and then fails on data it could have refused at once: both specs parse, and
every recording of ``--data`` and ``--val-data`` has labels (training and validation score
labelled segments; an unlabelled set has nothing to learn from or to measure)."""

from __future__ import annotations

from live_snn.labels import labels_path_for
from live_snn.train.data_spec import DataSpec, DataSpecError, parse_data_spec


def check_training_data(data: str, val_data: str | None) -> tuple[DataSpec, DataSpec | None]:
    """The parsed ``--data`` and ``--val-data`` specs, or :class:`DataSpecError` naming the
    option and what is wrong."""
    specs = []
    for option, text in (("--data", data), ("--val-data", val_data)):
        if text is None:
            specs.append(None)
            continue
        try:
            spec = parse_data_spec(text)
        except DataSpecError as exc:
            raise DataSpecError(f"{option}: {exc}") from None
        # A taught session folder was read whole (labels included) when the spec was parsed.
        unlabelled = [] if spec.kind == "teach" else \
            [p for p in spec.paths if not labels_path_for(p).is_file()]
        if unlabelled:
            raise DataSpecError(
                f"{option} {text}: {len(unlabelled)} of {len(spec.paths)} recordings have no "
                f"labels (NAME_labels.csv beside NAME.aedat4), e.g. {unlabelled[0]}: training "
                "and validation need labelled gestures")
        specs.append(spec)
    return specs[0], specs[1]
