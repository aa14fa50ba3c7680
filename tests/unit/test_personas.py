"""Buyer personas: each with its own fit questions; a lead's fit is the shared rules plus its
best-matching persona's, and the card names that persona (the three-persona test file)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from chalicelib.domain import Profile, RulesError, parse_rules
from chalicelib.domain.basis import ScoreBasis
from chalicelib.domain.scoring import card_from_basis, score, score_basis
from chalicelib.rules import DEFAULT_RULES_PATH, active_rules, load_rules_file

PERSONAS = Path(__file__).resolve().parents[1] / "fixtures" / "rules" / "three-personas.yaml"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_the_best_matching_persona_scores_and_is_named() -> None:
    rules = load_rules_file(PERSONAS)
    professional = score(Profile(job_title="Working Professional", industry="Finance Management"), [], rules, NOW)
    assert professional.persona == "career_builder"
    assert professional.fit == 30 + 10  # working professional + management track
    assert {c.rule for c in professional.contributions} >= {"working_professional", "management_track"}

    director = score(Profile(job_title="Director of IT", company_size=500), [], rules, NOW)
    assert director.persona == "enterprise_buyer" and director.fit == 15 + 20
    referred = score(Profile(job_title="Unemployed", lead_source="referral"), [], rules, NOW)
    assert referred.persona == "job_seeker" and referred.fit >= 20  # shared lead_source counts too


def test_a_tie_goes_to_the_first_persona_and_the_default_rules_have_none() -> None:
    rules = load_rules_file(PERSONAS)
    nobody = score(Profile(), [], rules, NOW)
    assert nobody.persona == "enterprise_buyer" and nobody.fit == 0
    assert score(Profile(job_title="CEO"), [], active_rules(), NOW).persona is None


def test_the_persona_survives_the_stored_basis() -> None:
    rules = load_rules_file(PERSONAS)
    basis = score_basis(Profile(job_title="Working Professional"), [], rules)
    again = ScoreBasis.from_json(basis.to_json(), rules)
    assert card_from_basis(again, rules, NOW).persona == "career_builder"


@pytest.mark.parametrize(
    ("personas", "problem"),
    [
        (
            "[{name: a, fit: [{name: job_title, attribute: job_title, points: 1}]}]",
            "personas[a].fit[job_title].name: rule name 'job_title' is used twice",
        ),
        ("[{name: a, fit: [{name: x, attribute: industry, in: no_such_list, points: 1}]}]", "no_such_list"),
        (
            "[{name: a, fit: [{name: x, attribute: industry, points: 1}]}, {name: a, fit: [{name: y, attribute: "
            "country, points: 1}]}]",
            "personas[1].name: persona name 'a' is used twice",
        ),
        ("[{name: a, fit: []}]", "personas[a].fit: List should have at least 1 item"),
    ],
)
def test_rules_validate_checks_the_personas(personas: str, problem: str) -> None:
    with pytest.raises(RulesError) as found:
        parse_rules(DEFAULT_RULES_PATH.read_text() + f"\npersonas: {personas}\n", "personas.yaml")
    assert problem in str(found.value), found.value
