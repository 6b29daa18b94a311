"""Line diffs of article text, for the compare view and the edit-conflict message."""

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "same", "removed", "added" or "gap"
    old_number: int | None
    new_number: int | None
    text: str


def line_diff(old, new, context=3):
    """Unified diff rows of two texts, line by line, with `context` unchanged lines around
    each change; an empty list when they are equal."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if old_lines == new_lines:
        return []
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    rows = []
    for group_index, group in enumerate(matcher.get_grouped_opcodes(context)):
        if group_index:
            rows.append(DiffLine("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows += [
                    DiffLine("same", i + 1, j + 1, old_lines[i])
                    for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
                ]
                continue
            rows += [DiffLine("removed", i + 1, None, old_lines[i]) for i in range(i1, i2)]
            rows += [DiffLine("added", None, j + 1, new_lines[j]) for j in range(j1, j2)]
    return rows
