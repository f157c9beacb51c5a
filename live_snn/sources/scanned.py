"""A recorded file read by a packet reader in this process, with one verdict per file.

Opening the file decodes it once (the scan): every packet is checked (coordinates inside the
sensor, timestamps not negative, not going back, no forward jump longer than a recording may
pause) and the first damage — found by the reader or by these checks — settles the verdict:
how many events are good and what is wrong where. Iteration then decodes the file again,
delivers exactly those events and raises :class:`CorruptFileError` naming the damage, so that
``info``, ``run``, ``record``, ``eval`` and ``convert`` see the same events and the same fault
(the rule of docs/reliability.md, as for AEDAT4).
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from live_snn.errors import SourceError
from live_snn.events import EVENT_DTYPE, Resolution
from live_snn.labels import labels_path_for, read_labels_csv
from live_snn.sources.checks import MAX_EVENT_GAP_US, first_bad_timestamp, first_outside
from live_snn.sources.verdict import VerdictFileSource


class PacketDamage(Exception):
    """Raised by :meth:`PacketReader.packets` where the data stops being readable:
    ``where`` locates it (byte, block), ``what`` says what is wrong."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where = where
        self.what = what


class PacketReader(abc.ABC):
    """Decodes one file into packets of :data:`EVENT_DTYPE` events, in file order."""

    path: Path
    format_name: str  # e.g. "Prophesee RAW (EVT 3.0)"
    sensor: str  # what the header says of the camera
    resolution: Resolution

    @abc.abstractmethod
    def packets(self) -> Iterator[np.ndarray]:
        """Every packet from the start of the data; :class:`PacketDamage` at damage."""

    @abc.abstractmethod
    def locate(self, packet: int, event: int) -> str:
        """Where event ``event`` (index in the file), inside packet ``packet``, lies."""


def clean_message(exc: BaseException) -> str:
    """One printable line of a decoder's message (they may quote damaged bytes)."""
    text = str(exc).strip() or type(exc).__name__
    line = text.splitlines()[0]
    return "".join(c if c.isprintable() else "?" for c in line)[:200].rstrip(".")


class ScannedFileSource(VerdictFileSource):
    """A seekable source over a :class:`PacketReader`, its verdict settled when opened.

    ``events``: the good events; ``damage``: None, or what is wrong and where; ``format_name``
    and ``sensor`` for ``info``. A ``NAME_labels.csv`` beside the file becomes ``labels``."""

    def __init__(self, reader: PacketReader, *, start_us: int | None = None,
                 max_gap_us: int = MAX_EVENT_GAP_US) -> None:
        self.reader = reader
        self.path = reader.path
        self.resolution = reader.resolution
        self.format_name = reader.format_name
        self.sensor = reader.sensor
        self.max_gap_us = int(max_gap_us)
        labels_file = labels_path_for(self.path)
        self.labels = read_labels_csv(labels_file) if labels_file.is_file() else None
        self.events, self.damage, first, last = self._scan()
        self.start_us = first if first is not None else 0
        self.end_us = last if last is not None else -1
        self.description = (f"{self.path.name} ({self.format_name}, {self.resolution}"
                            + (", labelled)" if self.labels is not None else ")"))
        self.events_read = 0
        self._cursor: _Cursor | None = None
        self._seek_to: int | None = None
        self._exhausted = False
        self._closed = False
        if start_us is not None:
            self.seek(start_us)

    def _scan(self) -> tuple[int, str | None, int | None, int | None]:
        """(good events, damage, first and last timestamp of the good events)."""
        events, first, last = 0, None, None
        width, height = self.resolution.width, self.resolution.height
        packets = self.reader.packets()
        try:
            for index, packet in enumerate(packets):
                found = [first_outside(packet["x"], packet["y"], width, height),
                         first_bad_timestamp(packet["t"], last, self.max_gap_us)]
                problem = min((p for p in found if p is not None), default=None,
                              key=lambda p: p[0])
                good = packet if problem is None else packet[: problem[0]]
                if len(good):
                    first = int(good["t"][0]) if first is None else first
                    last = int(good["t"][-1])
                if problem is not None:
                    at = events + problem[0]
                    return at, (f"damaged at {self.reader.locate(index, at)}, event {at}: "
                                f"{problem[1]}"), first, last
                events += len(packet)
        except PacketDamage as damage:
            return events, f"damaged at {damage.where}, after event {events}: {damage.what}", \
                first, last
        finally:
            packets.close()
        return events, None, first, last

    def seek(self, t_us: int) -> None:
        self._seek_to = int(t_us)
        self._cursor = None
        self._exhausted = False

    def _next_events(self) -> np.ndarray | None:
        if self._cursor is None:
            self._cursor = _Cursor(self.reader.packets(), self.events, self._seek_to)
            self._seek_to = None
        try:
            return self._cursor.next()
        except PacketDamage as damage:  # the file changed since it was opened
            raise SourceError(f"{self.path}: changed while it was read ({damage})") from None

    def _end_pass(self) -> None:
        self._cursor.close()

    def close(self) -> None:
        self._closed = True
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None


class _Cursor:
    """One sequential pass over the first ``limit`` events, from the first event at or after
    ``skip_before`` (None: from the start)."""

    def __init__(self, packets: Iterator[np.ndarray], limit: int, skip_before: int | None):
        self.packets = packets
        self.limit = limit
        self.position = 0
        self.skip_before = skip_before

    def next(self) -> np.ndarray | None:
        while self.position < self.limit:
            packet = next(self.packets, None)
            if packet is None:
                return None
            packet = packet[: self.limit - self.position]
            self.position += len(packet)
            if self.skip_before is not None:
                packet = packet[packet["t"] >= self.skip_before]
                if len(packet):
                    self.skip_before = None
            if len(packet):
                return np.ascontiguousarray(packet, dtype=EVENT_DTYPE)
        return None

    def close(self) -> None:
        close = getattr(self.packets, "close", None)
        if close is not None:
            close()
