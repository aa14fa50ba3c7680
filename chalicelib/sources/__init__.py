"""Inbound adapters: one module per vendor verifies a delivery and parses it into canonical
events (a `ParsedDelivery` command), and registers its receiver (see registry.py). Parsers only:
nothing here calls out (the CRM readers live in `chalicelib/crm/`). Importing this package loads
no vendor module; `load_all` loads them all."""

from __future__ import annotations

import importlib
import pkgutil

from .registry import RECEIVERS, Receiver

_SHARED = {"base", "registry", "form_fields", "bookings"}


def load_all() -> dict[str, Receiver]:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SHARED:
            importlib.import_module(f"{__name__}.{module.name}")
    return RECEIVERS


def form_providers() -> list[str]:
    return sorted(name for name, receiver in load_all().items() if receiver.route == "form")


__all__ = ["RECEIVERS", "Receiver", "form_providers", "load_all"]
