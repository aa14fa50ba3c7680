"""Two rules files compared section by section, in words: "fit rule 'Company size': option
'200+' points 15 → 20", "engagement rule 'Demo request' removed", "list 'disposable_domains': 12
added, 1 removed". Named items (fit and engagement rules, personas, tier bands, page categories)
are matched by name, so a reorder is no change and a rename is a removal and an addition."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.rules import Rules

SECTIONS = (
    "name", "lists", "decay", "fit", "personas", "engagement", "tiers", "grades",
    "crm_activity", "filters", "calibration", "crm_actions", "scores", "accounts",
)  # fmt: skip
NAMED_LISTS = {
    "fit": "fit rule",
    "personas": "persona",
    "rules": "engagement rule",
    "bands": "tier",
    "categories": "page category",
}
SHOWN = 60  # characters of a value shown before it is cut


def rules_diff(before: Rules, after: Rules) -> list[dict[str, Any]]:
    """[{"section", "changes": [sentence, ...]}] for each section that differs, in file order."""
    old = before.model_dump(mode="json", by_alias=True, exclude_none=True)
    new = after.model_dump(mode="json", by_alias=True, exclude_none=True)
    found = []
    for section in SECTIONS:
        changes = _section(section, old.get(section), new.get(section))
        if changes:
            found.append({"section": section, "changes": changes})
    return found


def diff_lines(before: Rules, after: Rules) -> list[str]:
    """The diff as text: a heading per section, a line per change."""
    lines: list[str] = []
    for section in rules_diff(before, after):
        lines.append(f"{section['section']}:")
        lines += [f"  {change}" for change in section["changes"]]
    return lines or ["no difference in meaning"]


def _section(section: str, old: Any, new: Any) -> list[str]:
    if section == "lists":
        return _lists(old or {}, new or {})
    if section in NAMED_LISTS:
        return _named(NAMED_LISTS[section], old or [], new or [])
    nested = isinstance(old, dict) and isinstance(new, dict)
    return _value("" if nested else section, old, new)  # the heading names the section


def _lists(old: dict[str, list[str]], new: dict[str, list[str]]) -> list[str]:
    changes = []
    for name in sorted(set(old) | set(new)):
        if name not in new:
            changes.append(f"list '{name}' removed ({len(old[name])} entries)")
        elif name not in old:
            changes.append(f"list '{name}' added ({len(new[name])} entries)")
        else:
            added, removed = set(new[name]) - set(old[name]), set(old[name]) - set(new[name])
            if added or removed:
                sample = ", ".join(sorted(added)[:3]) + ("…" if len(added) > 3 else "")
                shown = f" ({sample})" if added else ""
                changes.append(f"list '{name}': {len(added)} added{shown}, {len(removed)} removed")
    return changes


def _named(kind: str, old: list[Any], new: list[Any]) -> list[str]:
    if not all(isinstance(item, dict) and "name" in item for item in [*old, *new]):
        return _value(kind, old, new)
    before, after = {item["name"]: item for item in old}, {item["name"]: item for item in new}
    changes = []
    for name in after:
        if name not in before:
            changes.append(f"{kind} '{name}' added: {_shown(_without_name(after[name]))}")
    for name in before:
        if name not in after:
            changes.append(f"{kind} '{name}' removed")
        else:
            changes += _value(f"{kind} '{name}'", _without_name(before[name]), _without_name(after[name]))
    if not changes and [item["name"] for item in old] != [item["name"] for item in new]:
        changes.append(f"{kind}s reordered: {', '.join(after)}")
    return changes


def _value(path: str, old: Any, new: Any) -> list[str]:
    """One sentence per leaf that differs; nested named lists (a persona's fit rules, the
    engagement rules) by name."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in [*old, *(key for key in new if key not in old)]:
            if key in NAMED_LISTS and isinstance(old.get(key, []), list) and isinstance(new.get(key, []), list):
                nested = _named(NAMED_LISTS[key], old.get(key) or [], new.get(key) or [])
                changes += [f"{path}: {change}" if path else change for change in nested]
            elif key not in new:
                changes.append(f"{_join(path, key)} removed (was {_shown(old[key])})")
            elif key not in old:
                changes.append(f"{_join(path, key)} set to {_shown(new[key])}")
            else:
                changes += _value(path if key == "options" else _join(path, key), old[key], new[key])
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        options = all(isinstance(item, dict) for item in [*old, *new])
        changes = []
        for index, (before, after) in enumerate(zip(old, new, strict=True)):
            label = (after.get("label") or after.get("name")) if options else None
            changes += _value(_join(path, f"option {label!r}" if label else f"[{index + 1}]"), before, after)
        return changes
    if old is None:
        return [f"{path} set to {_shown(new)}"]
    if new is None:
        return [f"{path} removed (was {_shown(old)})"]
    return [f"{path}: {_shown(old)} → {_shown(new)}"]


def _join(path: str, key: str) -> str:
    return f"{path} {key}" if path else key


def _without_name(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if key != "name"}


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else _compact(value)
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(item) for item in value) + "]"
    return str(value)
