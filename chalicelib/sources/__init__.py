"""Inbound adapters: one module per vendor verifies a delivery and parses it into canonical
events (a `ParsedDelivery` command), and registers its receiver (see registry.py). Parsers only:
nothing here calls out (the CRM readers live in `chalicelib/crm/`). Importing this package loads
no vendor module; `receiver` loads the one a request names (a function's first request pays for
its own vendor only), `load_all` loads them all."""

from __future__ import annotations

import importlib
import pkgutil

from .registry import RECEIVERS, Receiver

_SHARED = {"base", "registry", "form_fields", "bookings"}


def receiver(name: str) -> Receiver | None:
    """The receiver registered as `name` (`hubspot`, `segment.track`), loading only its module:
    a receiver lives in the module its name starts with."""
    module = name.split(".")[0]
    if name not in RECEIVERS and module in _vendor_modules():
        importlib.import_module(f"{__name__}.{module}")
    return RECEIVERS.get(name)


def _vendor_modules() -> set[str]:
    return {module.name for module in pkgutil.iter_modules(__path__)} - _SHARED


def load_all() -> dict[str, Receiver]:
    for module in sorted(_vendor_modules()):
        importlib.import_module(f"{__name__}.{module}")
    return RECEIVERS


def form_providers() -> list[str]:
    return sorted(name for name, found in load_all().items() if found.route == "form")


__all__ = ["RECEIVERS", "Receiver", "form_providers", "load_all", "receiver"]
