"""A named score on a running `make run` (the fake HubSpot a real local HTTP server, the console in
headless Chromium): a rules version with `scores:` deployed with the CLI, a contact browsing the
/analytics section, and its property written in the same contacts batch call as the main score,
and shown on the lead page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from chalicelib.rules import DEFAULT_RULES_PATH
from local.child import make_run
from local.defaults import LOCAL_SECRETS
from local.signing import Signer
from tests.e2e.test_cli_local import leadscore
from tests.e2e.test_console_browser import _shots, _sign_in, _wait, browser  # noqa: F401 (a fixture)
from tests.e2e.test_rules_shadow_make_run import _until, crm_environment
from tests.helpers import ANALYTICS_SCORE
from tests.integration.crm_fakes import FakeHubSpotPortal

CONTACTS = [{"id": "3001", "updatedAt": "2026-12-01T10:00:00Z",
             "properties": {"email": "cy@initech.example", "firstname": "Cy", "lifecyclestage": "lead"}}]  # fmt: skip


def test_a_named_score_is_written_with_the_main_one_and_shown_on_the_lead(
    httpserver: Any,
    tmp_path: Path,
    browser: WebDriver,  # noqa: F811
) -> None:
    rules = tmp_path / "named.yaml"
    rules.write_text(
        DEFAULT_RULES_PATH.read_text().replace("name: seed-model", "name: with-analytics", 1) + ANALYTICS_SCORE
    )
    portal = FakeHubSpotPortal(httpserver, CONTACTS)
    state = tmp_path / "make-run.json"
    with make_run(None, "--reset", **crm_environment(httpserver, state)) as url:
        viewer = {"Authorization": f"Bearer {LOCAL_SECRETS['VIEWER_API_KEY']}"}
        deployed = leadscore(state, "rules", "deploy", str(rules), "--local", "-m", "an analytics score")
        assert deployed.returncode == 0, deployed.stderr
        _until("the new rules in force", lambda: requests.get(f"{url}/rules", headers=viewer, timeout=10).json()
               .get("name") == "with-analytics")  # fmt: skip

        created = [{"eventId": 9300, "subscriptionId": 1, "portalId": 12345678, "appId": 1, "occurredAt": 1764583200000,
                    "subscriptionType": "contact.creation", "attemptNumber": 0, "objectId": 3001,
                    "changeFlag": "CREATED", "changeSource": "CRM_UI"}]  # fmt: skip
        body, headers = Signer(LOCAL_SECRETS, url).hubspot_v3("/webhooks/hubspot", created)
        assert requests.post(f"{url}/webhooks/hubspot", data=body, headers=headers, timeout=10).status_code == 200
        batch = [{"type": "identify", "userId": "cy", "messageId": "cy-id", "traits": {"email": "cy@initech.example"}},
                 {"type": "page", "userId": "cy", "name": "Analytics pricing", "messageId": "cy-p1",
                  "properties": {"url": "https://acme.example/analytics/pricing"}},
                 {"type": "page", "userId": "cy", "name": "Pricing", "messageId": "cy-p2",
                  "properties": {"url": "https://acme.example/pricing"}}]  # fmt: skip
        reply = requests.post(f"{url}/v1/batch", json={"batch": batch}, auth=(LOCAL_SECRETS["EVENTS_WRITE_KEY"], ""),
                              timeout=30)  # fmt: skip
        assert reply.status_code == 200, reply.text

        def written() -> dict[str, Any] | None:
            for call in portal.updates:
                for item in call["inputs"]:
                    if item["id"] == "3001" and item["properties"].get("lead_score_analytics") == "20":
                        return dict(item["properties"])
            return None

        properties = _until("the named score's property in a contacts batch update", written)
        assert properties["lead_score"] == "20"  # the main score counts /pricing; the named one /analytics/pricing
        lead = requests.get(f"{url}/leads/hubspot:3001", headers=viewer, timeout=10).json()

        _sign_in(browser, url, LOCAL_SECRETS["VIEWER_API_KEY"])
        browser.get(f"{url}/console#/lead/{lead['lead_id']}")
        panel = _wait(browser, "#named-scores")
        assert "Interest in Analytics" in panel.text and "pricing" in panel.text.lower()
        score = browser.find_element(By.CSS_SELECTOR, '#named-scores [data-score="product_analytics"] .pts')
        assert score.text == "20"
        _shots(browser, "lead-named-scores", "#named-scores")
