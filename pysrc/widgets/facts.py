"""Numbers the article quotes, computed by the build from the same code the widgets run.

The article writes `{{ facts.NAME }}`; the build calls `compute()` once and passes
its dict to every article. Values are already formatted strings (or plain numbers).
"""
from __future__ import annotations


def compute() -> dict:
    return {}
