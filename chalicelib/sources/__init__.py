"""Inbound adapters: one module per vendor verifies a delivery and parses it into canonical
events, and registers its receiver (see registry.py). Importing this package loads them all."""

from __future__ import annotations

import importlib
import pkgutil

from .base import IncomingRequest, ParsedDelivery, SourceError
from .registry import RECEIVERS, Receiver

_SHARED = {"base", "registry", "form_fields", "hubspot_contacts"}


def load_all() -> dict[str, Receiver]:
    for module in pkgutil.iter_modules(__path__):
        if module.name not in _SHARED:
            importlib.import_module(f"{__name__}.{module.name}")
    return RECEIVERS


def form_providers() -> list[str]:
    return sorted(name for name, receiver in load_all().items() if receiver.route == "form")


__all__ = ["RECEIVERS", "IncomingRequest", "ParsedDelivery", "Receiver", "SourceError", "form_providers", "load_all"]
