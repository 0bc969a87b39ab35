"""Scenario files: an organization and its calendars, declared in YAML or JSON, seeded into a sandbox.

``load(path)`` / ``parse(text)`` / ``packaged("demo")`` give a checked :class:`Scenario` (or a
:class:`ScenarioError` listing each problem with its line and field); ``seed(store, scenario, clock)`` puts it
into an empty store. The model (:mod:`.model`) is the published JSON Schema, ``scenario.schema.json``; the
demo organization is ``demo.yaml``. ``python -m outlook_calendar_mcp.sandbox.scenarios --schema`` prints the
schema.
"""

from .loader import ScenarioError, load, packaged, parse
from .model import Scenario
from .seeding import anchor_day, resolve_day, seed

__all__ = ["Scenario", "ScenarioError", "anchor_day", "load", "packaged", "parse", "resolve_day", "seed"]
