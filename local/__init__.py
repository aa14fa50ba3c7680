"""Local run, demo and smoke test: laptop tooling, not shipped to Lambda."""
