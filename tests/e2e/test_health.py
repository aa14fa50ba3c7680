from typing import Any

from chalicelib.rules import active_rules


def test_health_answers_without_auth_and_names_the_rules_in_force(client: Any) -> None:
    response = client.http.get("/health")
    assert response.status_code == 200
    body = response.json_body
    assert body["status"] == "ok"
    # No version deployed: the bundled rules are in force.
    assert body["rules"] == {"version": None, "name": active_rules().name, "fingerprint": active_rules().fingerprint,
                             "shadow": None, "problems": []}  # fmt: skip
