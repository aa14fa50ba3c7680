"""The rules file: schema errors name the key path, line and bad value; the CLI validates files."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.cli import main as cli
from chalicelib.domain import RulesError, parse_rules
from chalicelib.rules import DEFAULT_RULES_PATH, active_rules
from tests.rules_mistakes import MISTAKES, Mistake, planted

DEFAULT_TEXT = DEFAULT_RULES_PATH.read_text()


def broken(old: str, new: str) -> str:
    assert old in DEFAULT_TEXT, old
    return DEFAULT_TEXT.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def only_issue(text: str):
    with pytest.raises(RulesError) as caught:
        parse_rules(text, source="rules.yaml")
    assert len(caught.value.issues) == 1, caught.value.issues
    return caught.value.issues[0]


def test_the_default_rules_are_valid_and_encode_the_whole_seed_table() -> None:
    rules = parse_rules(DEFAULT_TEXT)
    names = {rule.name for rule in rules.engagement.rules}
    assert {
        "page_homepage", "page_blog", "page_pricing", "page_docs", "page_case_study", "page_comparison",
        "page_careers", "docs_depth", "email_open", "email_click", "email_reply", "content_download",
        "case_study_download", "webinar_registered", "webinar_attended", "demo_request", "trial_started",
        "trial_active", "quote_request", "social_like", "social_comment", "social_share", "social_profile_view",
        "social_company_page", "social_direct_message", "unsubscribe", "hard_bounce", "spam_complaint",
    } <= names  # fmt: skip
    assert {rule.name for rule in rules.fit} >= {
        "company_size", "job_title", "target_industry", "target_country", "lead_source", "free_mail", "student",
        "competitor",
    }  # fmt: skip
    assert [category.name for category in rules.engagement.page_categories.categories] == [
        "homepage", "pricing", "docs", "case_study", "comparison", "careers", "blog",
    ]  # fmt: skip


def test_a_bad_value_names_path_line_and_value() -> None:
    text = broken("points: 20, cap: 40", "points: lots, cap: 40")
    issue = only_issue(text)
    assert issue.path == "engagement.rules[page_pricing].points"
    assert issue.value == "lots"
    assert issue.line == line_of(text, "points: lots")
    assert "line" in str(issue) and "'lots'" in str(issue)


def test_a_misspelt_key_is_an_error_not_a_silent_zero() -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(broken("points: 50, cap: 50", "pionts: 50, cap: 50"))
    assert [(issue.path, issue.message) for issue in caught.value.issues] == [
        ("engagement.rules[demo_request].pionts", "unknown key `pionts`; did you mean `points`?"),
    ]


def test_an_undefined_decay_schedule_is_named() -> None:
    text = broken("decay: buying_intent}", "decay: buying_intnt}")
    issue = only_issue(text)
    assert issue.path == "engagement.rules[demo_request].decay"
    assert issue.value == "buying_intnt"
    assert issue.line == line_of(text, "buying_intnt")


def test_an_undefined_list_is_named() -> None:
    issue = only_issue(broken("in: target_industries", "in: target_industrys"))
    assert issue.path == "fit[target_industry]"
    assert "target_industrys" in issue.message


def test_an_unknown_event_type_lists_the_known_ones() -> None:
    issue = only_issue(broken("event: demo_request,", "event: demo_requets,"))
    assert issue.path == "engagement.rules[demo_request].event"
    assert "demo_request" in issue.message


def test_negative_rules_may_not_decay() -> None:
    issue = only_issue(broken("points: -20, cap: 20}", "points: -20, cap: 20, decay: social}"))
    assert "negative behaviour never decays" in issue.message


def test_decay_that_rises_with_age_is_rejected() -> None:
    issue = only_issue(
        broken("email_open:\n    steps: [{until_days: 30, keep: 1.0}, {until_days: 90, keep: 0.5}]",
               "email_open:\n    steps: [{until_days: 30, keep: 0.5}, {until_days: 90, keep: 0.8}]")
    )  # fmt: skip
    assert issue.path == "decay.email_open"
    assert "must not increase" in issue.message


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("{name: warm, min: 31}", "{name: warm, min: 0}", "must increase"),
        ("mql_from: hot", "mql_from: scorching", "not a tier"),
        ("- {grade: D}", "- {grade: D, min_fit: 0}", "last grade"),
        ("pattern: '^/blog(/|$)'", "pattern: '^/blog(/|$'", "not a valid regular expression"),
        ("{label: \"50-99 employees\", min: 50, below: 100, points: 10}",
         "{label: \"50-99 employees\", min: 50, below: 40, points: 10}", "must be greater than min"),
        ("attribute: lead_source\n", "attribute: leadsource\n", "unknown attribute"),
        ("{within_hours: 24, factor: 1.5}", "{within_hours: 0.5, factor: 1.5}", "must increase"),
        ("kind: response_time", "kind: response_speed", "does not match any of the expected tags"),
    ],
)  # fmt: skip
def test_structural_mistakes_are_explained(old: str, new: str, message: str) -> None:
    issue = only_issue(broken(old, new))
    assert message in issue.message
    assert issue.line is not None


def test_yaml_syntax_errors_carry_a_line() -> None:
    issue = only_issue("tiers:\n  bands: [\n")
    assert issue.message.startswith("not valid YAML")
    assert issue.line == 3


def test_a_rules_file_must_be_a_mapping() -> None:
    assert "mapping" in only_issue("- just\n- a list\n").message


def test_fingerprint_follows_meaning_not_formatting() -> None:
    reformatted = DEFAULT_TEXT.replace("# leadscore seed scoring model.", "# a different comment")
    assert parse_rules(reformatted).fingerprint == parse_rules(DEFAULT_TEXT).fingerprint
    assert parse_rules(broken("points: 20, cap: 40", "points: 21, cap: 40")).fingerprint != (
        parse_rules(DEFAULT_TEXT).fingerprint
    )


def test_cli_validate_prints_a_one_line_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["rules", "validate", str(DEFAULT_RULES_PATH)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("ok ") and "39 engagement rules" in out[0]


def test_cli_validate_fails_with_the_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(broken("points: 20, cap: 40", "points: lots, cap: 40"))
    assert cli(["rules", "validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "engagement.rules[page_pricing].points" in err and "'lots'" in err


def test_cli_validate_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["rules", "validate", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_scoring_rules_env_var_selects_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    custom = tmp_path / "mine.yaml"
    custom.write_text(DEFAULT_TEXT.replace("name: seed-model", "name: my-model"))
    monkeypatch.setenv("SCORING_RULES", str(custom))
    assert active_rules().name == "my-model"
    monkeypatch.delenv("SCORING_RULES")
    assert active_rules().name == "seed-model"


def test_a_crm_activity_naming_an_unknown_event_type_is_an_error() -> None:
    text = broken("event: meeting_booked}", "event: meetng_booked}")
    issue = only_issue(text)
    assert (
        issue.path == "crm_activity.hubspot[engagements_last_meeting_booked].event" and "meetng_booked" in issue.message
    )


def test_a_salesforce_mapping_naming_an_unknown_event_type_is_an_error() -> None:
    issue = only_issue(broken("tasks: {Email: email_reply, Call: call}", "tasks: {Email: email_reply, Call: phone}"))
    assert issue.path == "crm_activity.salesforce.tasks.Call"


def test_with_the_email_events_poller_the_marketing_email_properties_are_left_out() -> None:
    mapping = parse_rules(DEFAULT_TEXT).crm_activity
    kept = {item.property for item in mapping.for_hubspot(email_events=True).hubspot}
    assert {item.property for item in mapping.hubspot} - kept == {
        "hs_email_last_send_date",
        "hs_email_last_open_date",
        "hs_email_last_click_date",
    }
    assert mapping.for_hubspot(email_events=False) is mapping


def test_a_list_from_an_unknown_data_package_is_an_error_naming_it() -> None:
    text = broken("{package: disposable-email-domains}", "{package: disposable-domains}")
    issue = only_issue(text)
    assert issue.path == "lists.disposable_email_domains.package"
    assert "disposable-domains" in issue.message and "disposable-email-domains" in issue.message
    assert issue.line == line_of(text, "disposable-domains")


def test_a_calibration_gives_every_card_a_likelihood_rising_with_the_score() -> None:
    from datetime import UTC, datetime

    from chalicelib.domain import Identities, LeadEvent, Profile
    from chalicelib.domain.scoring import score

    text = DEFAULT_RULES_PATH.read_text() + "\ncalibration: {intercept: -3.0, slope: 0.05}\n"
    rules = parse_rules(text, "calibrated.yaml")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    demo = LeadEvent(event_id="d", source="segment", type="Demo Requested", occurred_at=now, identities=Identities())
    cold = score(Profile(), [], rules, now)
    warm = score(Profile(), [demo], rules, now)
    assert cold.likelihood == round(1 / (1 + 2.718281828459045**3), 4)
    assert warm.likelihood is not None and cold.likelihood is not None and warm.likelihood > cold.likelihood
    assert score(Profile(), [demo], active_rules(), now).likelihood is None  # no calibration: no likelihood
    with pytest.raises(RulesError, match="slope"):
        parse_rules(DEFAULT_RULES_PATH.read_text() + "\ncalibration: {intercept: 1, slope: -0.1}\n", "bad.yaml")


def test_the_default_rules_score_every_type_they_name_or_say_they_record_only() -> None:
    from chalicelib.domain.rules_warnings import rules_warnings
    from chalicelib.rules.vocabulary import EMITTED_TYPES

    assert rules_warnings(active_rules(), EMITTED_TYPES) == []


def test_validate_warns_about_unscored_types_and_unreachable_rules(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = broken("video_progress, trial_ended, account_left", "video_progress, account_left")
    text = text.replace('invite_sent: ["Invite Sent"]', "invite_sent: []")
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    assert cli(["rules", "validate", str(path)]) == 0  # warnings, not errors: the file works
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "warning: engagement.event_types.trial_ended: no rule scores it; add a rule, or list it under "
        "engagement.recorded_only if it is kept without points on purpose",
        "warning: engagement.rules[invite_sent]: nothing maps to event type 'invite_sent'; "
        "list the tracking names that mean it under engagement.event_types.invite_sent",
    ]
    assert captured.out.rstrip().endswith("(2 warnings)")


def test_recorded_only_names_a_type() -> None:
    with pytest.raises(RulesError) as caught:
        parse_rules(broken("account_left, chat_message]", "account_left, chat_mesage]"))
    assert [(issue.path, issue.message) for issue in caught.value.issues] == [
        (
            "engagement.recorded_only[5]",
            "'chat_mesage' is not a key of engagement.event_types; did you mean `chat_message`?",
        )
    ]


def test_the_readme_table_of_what_counts_is_the_bundled_rules() -> None:
    from chalicelib.rules.counts_table import counts_table

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    start = readme.index("<!-- counts-table")
    table = readme[readme.index("\n", start) + 1 : readme.index("<!-- /counts-table -->")].strip()
    assert table == counts_table(active_rules())


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(MISTAKES), unique=True, min_size=1))
def test_every_planted_mistake_is_reported_in_one_pass_by_name_with_the_closest_valid_key(
    mistakes: list[Mistake],
) -> None:
    """Any mix of mistakes: one issue for each, none for what only follows from another."""
    with pytest.raises(RulesError) as caught:
        parse_rules(planted(mistakes), source="rules.yaml")
    reported = [(issue.path, issue.message) for issue in caught.value.issues]
    assert len(reported) == len(mistakes), reported
    for mistake in mistakes:
        assert any(path == mistake.path and mistake.says in message for path, message in reported), (mistake, reported)
    assert all(issue.line for issue in caught.value.issues)


def test_the_cli_lists_every_problem_of_a_file_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "rules.yaml"
    bad.write_text(planted(MISTAKES))
    assert cli(["rules", "validate", str(bad)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{bad}: {len(MISTAKES)} problem(s)"
    numbers = [int(line.split(":")[0].removeprefix("  line ")) for line in lines[1:]]
    assert numbers == sorted(numbers)  # in the file's order
    assert "did you mean `unsubscribe`?" in "\n".join(lines)


def test_a_duplicate_name_is_named_by_its_index_and_a_label_with_spaces_is_quoted() -> None:
    issue = only_issue(broken("- {name: page_blog,", "- {name: page_homepage,"))
    assert issue.path.startswith("engagement.rules[") and issue.path.endswith("].name")
    assert issue.path.removeprefix("engagement.rules[").split("]")[0].isdigit()
    issue = only_issue(
        broken('{label: "50-99 employees", min: 50, below: 100,', '{label: "50-99 employees", min: 50, below: 10,')
    )
    assert issue.path == 'fit[company_size].options["50-99 employees"]'
