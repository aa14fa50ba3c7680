"""No CRM configured: log what would be written (ids and values, never personal data)."""

from __future__ import annotations

from chalicelib.observability import logger

from .ports import WRITTEN, WriteRequest, WriteResult


class DryRunWriter:
    name = "dry-run"

    def write(self, requests: list[WriteRequest]) -> dict[str, WriteResult]:
        for request in requests:
            card = request.card
            logger.info(
                "write-back (dry run)",
                extra={"lead_id": request.lead_id, "score": card.score, "tier": card.tier, "grade": card.grade},
            )
        return {request.lead_id: WRITTEN for request in requests}
