"""Named lists the rules file takes from a maintained data package instead of writing them out:

    lists:
      disposable_email_domains: {package: disposable-email-domains}

Such a list changes when the package is updated (a new release of the service): the rules'
fingerprint changes with it, so every lead is rescored against the new list.
"""

from __future__ import annotations

from collections.abc import Callable


def _disposable_email_domains() -> list[str]:
    # github.com/disposable-email-domains/disposable-email-domains, as its PyPI package
    from disposable_email_domains import blocklist

    return sorted(blocklist)


PACKAGES: dict[str, Callable[[], list[str]]] = {"disposable-email-domains": _disposable_email_domains}


def packaged_list(package: str) -> list[str]:
    """The list a known data package holds; KeyError names the ones there are."""
    if package not in PACKAGES:
        raise KeyError(f"unknown data package {package!r} (known: {', '.join(sorted(PACKAGES))})")
    return PACKAGES[package]()
