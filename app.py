"""Chalice entry point: routes only. Each handler parses the request and calls one use case in chalicelib."""

from chalice import Chalice

app = Chalice(app_name="leadscore")


@app.route("/health", methods=["GET"])
def health() -> dict[str, str]:
    return {"status": "ok"}
