"""Named lists the rules file takes from a maintained data package instead of writing them out:

    lists:
      disposable_email_domains: {package: disposable-email-domains}
      crawler_user_agents: {package: crawler-user-agents}

A rules file that leaves out `crawler_user_agents` (and does not turn the crawler filter off) still
gets the packaged list: filtering crawlers is the safe default.

Such a list changes when the package is updated (a new release of the service): the rules'
fingerprint changes with it, so every lead is rescored against the new list.
"""

from __future__ import annotations

from collections.abc import Callable


def _disposable_email_domains() -> list[str]:
    # github.com/disposable-email-domains/disposable-email-domains, as its PyPI package
    from disposable_email_domains import blocklist

    return sorted(blocklist)


def _crawler_user_agents() -> list[str]:
    # github.com/monperrus/crawler-user-agents, as its PyPI package: regexes on the User-Agent
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    return [str(entry["pattern"]) for entry in CRAWLER_USER_AGENTS_DATA]


PACKAGES: dict[str, Callable[[], list[str]]] = {
    "disposable-email-domains": _disposable_email_domains,
    "crawler-user-agents": _crawler_user_agents,
}


def packaged_list(package: str) -> list[str]:
    """The list a known data package holds; KeyError names the ones there are."""
    if package not in PACKAGES:
        raise KeyError(f"unknown data package {package!r} (known: {', '.join(sorted(PACKAGES))})")
    return PACKAGES[package]()
