"""Backtests and fitting: score a CRM export with outcomes, measure, and fit point values (offline)."""
