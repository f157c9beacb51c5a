"""What a teaching session asks for: classes, takes per class, take, rest and countdown
lengths, and the order of the prompts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from live_snn.errors import LiveSnnError
from live_snn.model.checkpoint_checks import MAX_CLASS_NAME_CHARS

ORDERS = ("random", "fixed")


class TeachPlanError(LiveSnnError):
    """A plan that cannot be carried out (no classes, a repeated name, a bad length)."""


@dataclass(frozen=True)
class TeachPlan:
    class_names: tuple[str, ...]
    takes_per_class: int = 5
    take_s: float = 2.0
    rest_s: float = 1.0
    countdown_s: float = 3.0     # "3, 2, 1, go": the prompt shows this long before a take
    order: str = "random"        # random: shuffled (seeded); fixed: round after round
    seed: int = 0

    def __post_init__(self) -> None:
        names = tuple(" ".join(str(n).split()) for n in self.class_names)
        object.__setattr__(self, "class_names", names)
        problems = []
        if not names or any(not n for n in names):
            problems.append("give at least one class, each with a name")
        odd = [n for n in names if len(n) > MAX_CLASS_NAME_CHARS or not n.isprintable()]
        if odd:  # a checkpoint could not carry them
            problems.append(f"a class name is 1..{MAX_CLASS_NAME_CHARS} printable characters: "
                            f"{odd[0][:MAX_CLASS_NAME_CHARS + 8]!r}")
        if len({n.lower() for n in names}) != len(names):
            problems.append(f"class names repeat: {list(names)}")
        if self.takes_per_class < 1:
            problems.append(f"takes per class must be >= 1, got {self.takes_per_class}")
        if not 0.5 <= self.take_s <= 30:
            problems.append(f"a take lasts 0.5-30 s, got {self.take_s:g} s")
        if not 0 <= self.rest_s <= 60:
            problems.append(f"the rest lasts 0-60 s, got {self.rest_s:g} s")
        if not 0 <= self.countdown_s <= 10:
            problems.append(f"the countdown lasts 0-10 s, got {self.countdown_s:g} s")
        if self.order not in ORDERS:
            problems.append(f"order is one of {', '.join(ORDERS)}, got {self.order!r}")
        if problems:
            raise TeachPlanError("teaching plan: " + "; ".join(problems))

    @classmethod
    def parse_classes(cls, text: str | Sequence[str]) -> tuple[str, ...]:
        """``"swipe left, thumbs up"`` or a list of such strings -> names (commas split)."""
        parts = [text] if isinstance(text, str) else list(text)
        return tuple(n.strip() for part in parts for n in part.split(",") if n.strip())

    @property
    def take_us(self) -> int:
        return int(round(self.take_s * 1e6))

    @property
    def rest_us(self) -> int:
        return int(round(self.rest_s * 1e6))

    @property
    def countdown_us(self) -> int:
        return int(round(self.countdown_s * 1e6))

    @property
    def total_takes(self) -> int:
        return self.takes_per_class * len(self.class_names)

    def prompt_order(self) -> list[int]:
        """Class index of each take, in the order they are prompted."""
        rounds = [c for _ in range(self.takes_per_class) for c in range(len(self.class_names))]
        if self.order == "fixed":
            return rounds
        return [int(i) for i in np.random.default_rng(self.seed).permutation(rounds)]

    def as_dict(self) -> dict:
        return {"class_names": list(self.class_names), "takes_per_class": self.takes_per_class,
                "take_s": self.take_s, "rest_s": self.rest_s, "countdown_s": self.countdown_s,
                "order": self.order, "seed": self.seed}
