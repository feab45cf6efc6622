"""Closed integer intervals ``[lo, hi]`` (seconds): the allowed start times of a visit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

IntInterval = tuple[int, int]


def normalise(intervals: Iterable[IntInterval]) -> list[IntInterval]:
    """Sorted, non-empty, merged (touching integer intervals are merged too)."""
    merged: list[IntInterval] = []
    for lo, hi in sorted(i for i in intervals if i[0] <= i[1]):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def intersect(a: Sequence[IntInterval], b: Sequence[IntInterval]) -> list[IntInterval]:
    """Intersection of two normalised lists."""
    result: list[IntInterval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            result.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def clip(intervals: Sequence[IntInterval], lo: int, hi: int) -> list[IntInterval]:
    return intersect(intervals, [(lo, hi)]) if lo <= hi else []


def gaps(intervals: Sequence[IntInterval]) -> list[IntInterval]:
    """The holes strictly between consecutive intervals of a normalised list."""
    return [(a[1] + 1, b[0] - 1) for a, b in zip(intervals, intervals[1:], strict=False)
            if a[1] + 1 <= b[0] - 1]


def overlaps(intervals: Sequence[IntInterval], lo: int, hi: int) -> bool:
    return any(a <= hi and lo <= b for a, b in intervals)
