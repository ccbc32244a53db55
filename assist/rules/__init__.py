"""The pure rule engine: conversation state + rules from ``rules/*.toml`` → coaching prompts.

    pack = load_pack([default_rules_dir()])   # RuleError on a bad pack
    engine = Engine(pack)
    prompts = engine.feed(event)
"""

from .engine import Engine
from .loader import Rule, RulePack, default_rules_dir, load_pack
from .state import StateSnapshot

__all__ = ["Engine", "Rule", "RulePack", "StateSnapshot", "default_rules_dir", "load_pack"]
