"""The registrable domain of a host, from the Public Suffix List as `tldextract` ships it: its
bundled snapshot only (no download, no cache directory), private suffixes included (a name under
github.io is its own registrant). Read once per container, on first use."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _extractor() -> Any:
    import tldextract

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


@lru_cache(maxsize=4096)
def registrable_domain(host: str) -> str | None:
    """acme.co.uk for mail.acme.co.uk; None for a bare suffix, an IP address or a single label."""
    parts = _extractor()(host)
    # tldextract 5.3 renamed registered_domain (still there, deprecated); older ones only have it.
    found = getattr(parts, "top_domain_under_public_suffix", None)
    if found is None:
        found = parts.registered_domain
    return str(found).casefold() if found else None
