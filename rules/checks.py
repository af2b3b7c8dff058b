"""Condition checks: the functions a rule's `condition.check` names, all registered in `CHECKS`.

A document check looks at one Document; a group check looks at one vendor's documents together
(checklist ↔ MDS/SDS, missing documents). Each returns `Hit`s; the engine turns a Hit into a
`Finding` with the rule's text. Conditions name catalogue concepts, not item numbers, so a rule
works on every form version whose catalogue carries the concept.

The registry and the shared helpers are in `rules.check_base`; the checks in `checks_document` (answers,
gates, deadlines), `checks_remark` (remarks and the コメント box), `checks_group` (one vendor's documents),
`checks_cross` (transports, hospital ↔ vendor),
`checks_crosswalk` (MDS2 ↔ JAHIS MDS/SDS of one product), `checks_text` (what a remark names) and `checks_stale`.
This module imports them all, so that importing it registers every check; none of them imports it.
"""
from __future__ import annotations

from rules import (checks_cross, checks_crosswalk, checks_document, checks_gl7, checks_group,  # noqa: F401
                   checks_mds2, checks_remark, checks_stale, checks_text)
from rules import checks_devices  # noqa: F401  (device ledger checks, scope "devices")
from rules import checks_vuln  # noqa: F401  (vulnerability feeds and SBOMs)
from rules.check_base import CHECKS, Context, Hit, check, describe_condition
from rules.grouping import CHECKLIST_FAMILIES, DISCLOSURE_FAMILIES

__all__ = ["CHECKS", "Hit", "Context", "check", "describe_condition", "DISCLOSURE_FAMILIES", "CHECKLIST_FAMILIES"]
