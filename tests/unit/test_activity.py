"""A lead's activity lines: what the person did, named as a rep reads it, with what it earns now
or why it earns nothing."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.domain.activity import activity_line, describe
from chalicelib.domain.compiled_rules import compile_rules
from tests.helpers import NOW, default_rules, event, page

COMPILED = compile_rules(default_rules())


def line(evt, capped=frozenset()):
    return activity_line(evt, COMPILED, NOW, capped)


def test_a_form_names_the_form_and_a_page_its_title_and_path() -> None:
    demo = line(event("Demo Requested", timedelta(hours=2), form_name="Book a demo"))
    assert demo.title == "Requested a demo through 'Book a demo'"
    assert demo.kind == "demo_request" and demo.points_now > 0 and demo.rule and demo.note is None
    viewed = line(page("/pricing", timedelta(days=1), title="Pricing"))
    assert viewed.title == "Viewed 'Pricing' (/pricing)" and viewed.points_now > 0
    assert line(page("/docs/api")).title == "Viewed /docs/api"


def test_an_email_names_its_subject_and_decays_with_age() -> None:
    fresh = line(event("Email Opened", timedelta(hours=1), subject="Q3 pricing", message_id="m1"))
    old = line(event("Email Opened", timedelta(days=60), subject="Q3 pricing", message_id="m2"))
    assert fresh.title == old.title == "Opened 'Q3 pricing'"
    assert 0 <= old.points_now < fresh.points_now
    assert old.note is not None and ("aged out" in old.note or "% of its" in old.note)


def test_what_earns_nothing_says_why() -> None:
    assert line(event("Invented Thing")).note == "no rule scores 'Invented Thing'"
    bot = line(page("/pricing", user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"))
    assert bot.points_now == 0 and bot.note == "ignored: crawler user agent"
    sent = line(event("email_sent", message_id="m3"))
    assert sent.points_now == 0 and sent.note == "recorded, not scored"
    capped = line(event("Demo Requested", form_name="Demo"), capped=frozenset({"demo_request"}))
    assert capped.note == "its rule has reached its cap"


def test_a_title_is_text_never_a_link_and_is_bounded() -> None:
    hostile = describe(event("page_view", url="javascript:alert(1)//https://x.io/p"), "page_view")
    assert "javascript" not in hostile and hostile == "Page view"
    assert describe(event("Demo Requested"), "demo_request") == "Demo Requested"
    long = describe(event("Demo Requested", form_name="x" * 500), "demo_request")
    assert len(long) == 160 and long.endswith("…")
    assert (
        describe(event("Custom Thing", name="Webinar \u202egnp.exe"), "custom thing")
        == "Custom Thing 'Webinar gnp.exe'"
    )
