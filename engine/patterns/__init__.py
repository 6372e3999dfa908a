"""Patterns over an estate's events: matching log entries across cases with durable-rules.

The matcher (:class:`PatternMatcher`) reads entries in log order and returns the matches
they complete; the runtime's pattern step (:mod:`engine.runtime.patterns`) reads the store
after its cursor, feeds the matcher and commits each match's actions with the cursor.
"""

from engine.patterns.matcher import PatternHit, PatternMatcher, lookback

__all__ = ["PatternHit", "PatternMatcher", "lookback"]
