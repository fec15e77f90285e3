"""Declarative automation kept as data, one import away.

``AutomationCondition`` (the condition tree) is defined in ``automation_condition``;
``AutoMaterializePolicy`` and ``AutoMaterializeRule`` (the older, rule-based form) in
``auto_materialize``. Every name stays importable from here. Nothing evaluates them here: the
asset automation daemon does.
"""

from __future__ import annotations

from tocsin.automation.auto_materialize import (
    AutoMaterializeDecisionType as AutoMaterializeDecisionType,
)
from tocsin.automation.auto_materialize import AutoMaterializePolicy as AutoMaterializePolicy
from tocsin.automation.auto_materialize import (
    AutoMaterializePolicyType as AutoMaterializePolicyType,
)
from tocsin.automation.auto_materialize import AutoMaterializeRule as AutoMaterializeRule
from tocsin.automation.automation_condition import AutomationCondition as AutomationCondition
from tocsin.automation.automation_condition import check_cron as check_cron
