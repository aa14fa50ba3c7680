"""A save's mark of how far the score moved today, on the lead item, without reading it first (the
decay job saves from the due index's projection): `day_start#<day>` is set only by the day's first
save, to the score before it (if_not_exists); `moved_day`/`moved_by` put the lead in the `moved`
index by its change so far today; day starts older than the week are removed as saves go by."""

from __future__ import annotations

from datetime import date

from chalicelib.domain.score_change import let_go_days, week_days

from .items import day_start_name, n, s, spread
from .ports import LeadSave
from .schema import MOVED_BY, MOVED_DAY
from .table import Item


def week_names(today: date) -> list[str]:
    """The day-start attributes a row reads to tell the change since yesterday and over the week."""
    return [day_start_name(day) for day in week_days(today)]


def add_moves(update: Item, change: LeadSave) -> None:
    """Add the day's start and today's move to a conditional save's UpdateExpression."""
    today = change.now.date()
    names, values = update["ExpressionAttributeNames"], update["ExpressionAttributeValues"]
    names.update({"#dstart": day_start_name(today), "#mday": MOVED_DAY, "#mby": MOVED_BY})
    moved_day = spread(today.isoformat(), change.lead_id, "moved")
    values.update({":dstart": n(change.before.score if change.before else 0), ":mday": s(moved_day),
                   ":mscore": n(change.card.score)})  # fmt: skip
    start = "if_not_exists(#dstart, :dstart)"
    moves = f"#dstart = {start}, #mday = :mday, #mby = :mscore - {start}"
    old = []
    for number, day in enumerate(let_go_days(today)):
        names[f"#dold{number}"] = day_start_name(day)
        old.append(f"#dold{number}")
    expression: str = update["UpdateExpression"]
    expression = f"SET {moves}, {expression.removeprefix('SET ')}"
    expression += (", " if " REMOVE " in expression else " REMOVE ") + ", ".join(old)
    update["UpdateExpression"] = expression
