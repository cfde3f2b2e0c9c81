"""Where a run writes, and what it must not write over.

A data set's sweep of an attack writes ``OUT/<attack>/``, a composition ``a+b``
``OUT/a_then_b/``, a model's encodings ``OUT/<file stem>/<attack>/``.  A folder
whose ``run.json`` records the same configuration is a rerun and is rewritten; one
recording another is refused unless ``--force``.
"""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

import attacks as attack_registry

from ..validation import BenchmarkError
from . import pid

__all__ = ["attack_folder", "check_card", "check_replacements", "open_ended_notes", "recorded_config"]


def attack_folder(out: Path, attack: str) -> Path:
    """Where a sweep of ``attack`` writes: ``OUT/<attack>``, a composition ``a+b`` in
    ``OUT/a_then_b``."""
    return out / attack.replace("+", "_then_")


def recorded_config(config) -> dict:
    """A sweep's configuration as ``run.json`` records it, the encodings by file name (a
    model's folder is named after its file already)."""
    record = json.loads(json.dumps(asdict(config), default=str))
    if record.get("encodings"):
        record["encodings"] = Path(record["encodings"]).name
    return record


def check_replacements(folders: dict, force: bool) -> list[str]:
    """Refuse to write over the outputs of a sweep of another configuration.

    ``folders`` maps each attack folder of the run to its :class:`SweepConfig`.  A
    folder whose ``run.json`` records the same configuration is simply rewritten (a
    rerun); one that records another is refused in one line naming what differs,
    unless ``force``, when that line becomes a note.  Returns the notes."""
    notes = []
    for folder, config in folders.items():
        try:
            old = json.loads((folder / "run.json").read_text())["config"]
        except (OSError, ValueError, KeyError, TypeError):
            continue  # nothing there, or not a run of ours: nothing to protect
        new = recorded_config(config)
        if not isinstance(old, dict):
            continue
        if old.get("encodings"):
            old["encodings"] = Path(str(old["encodings"])).name
        old = pid.as_requested(old, new)
        differ = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if not differ:
            continue
        what = f"a sweep of another configuration (it differs in {', '.join(differ)})"
        if not force:
            raise BenchmarkError(f"{folder}/ holds {what}: give this run another --out, or add "
                                 "--force to replace it")
        notes.append(f"replacing {folder}/, which held {what}")
    return notes


def check_card(place: Path, attacks: list, force: bool) -> list[str]:
    """Refuse to replace the report card (with the grid and matrix beside it) of ``place``
    by one of fewer attacks: a run of two attacks into a folder that holds the card of all
    fourteen would silently drop twelve.  ``--force`` makes it a note.  Returns the notes."""
    try:
        with open(place / "report_card.csv", newline="") as f:
            held = {row["attack"] for row in csv.DictReader(f)}
    except (OSError, ValueError, KeyError, csv.Error):
        return []  # nothing there, or not a card of ours
    dropped = sorted(held - set(attacks))
    if not dropped:
        return []
    what = (f"{place}/report_card.csv covers attacks this run leaves out "
            f"({', '.join(dropped)})")
    if not force:
        raise BenchmarkError(f"{what}: its card, grid and matrix would be replaced by ones of "
                             f"{', '.join(attacks)} alone; give this run another --out, or add "
                             "--force")
    return [f"replacing {place}/report_card and the grid and matrix; {what}"]


def open_ended_notes(runs, bases) -> list[str]:
    """A line for each attack swept beyond its default grid although its level has no
    upper limit (the level scales a copy or a noise), so the run says where it goes."""
    lines = {}
    for key, configs in runs.items():
        for name, config in configs.items():
            spec = attack_registry.get(name)
            top = max(config.levels)
            if spec.level_limit(bases[key]) is None and top > max(spec.levels):
                lines[name] = (f"{name}'s level has no upper limit; {top:g} goes beyond its "
                               f"default grid (0 to {max(spec.levels):g})")
    return list(lines.values())
