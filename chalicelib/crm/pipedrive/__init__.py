"""Pipedrive's API (developers.pipedrive.com): the person fields leadscore writes (`fields.py`),
the write-back to them (`writer.py`) and the persons read for the import and the reconciliation
(`persons.py`). Authenticated with `x-api-token: PIPEDRIVE_API_TOKEN`, so the token is never in a
URL (and so in no log)."""
