"""``assist rules``: check rule files (``check``) and show what each rule does (``list``).

Other commands take the same ``--rules`` option through :func:`add_rules_option` and load
the pack with :func:`pack_from_args`, so they refuse to start on an invalid pack with the
very lines ``assist rules check`` prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assist.errors import RuleError
from assist.rules import RulePack, default_rules_dir, load_pack
from assist.rules.loader import Rule


def add_rules_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rules", action="append", type=Path, metavar="PATH",
        help="rule file or directory (repeatable; default: $ASSIST_RULES or the bundled rules/)",
    )


def pack_from_args(args: argparse.Namespace) -> RulePack:
    """The pack named by ``--rules`` (or the default); RuleError lists every problem."""
    return load_pack(getattr(args, "rules", None) or [default_rules_dir()])


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules", help="check or list the coaching rules",
        description="Validate rule files (rules/*.toml) or list what each rule does.",
    )
    sub = parser.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate rule files; problems as file:line: message")
    check.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                       help="rule files or directories (default: $ASSIST_RULES or the bundled rules/)")
    check.set_defaults(func=run_check)
    listing = sub.add_parser("list", help="show each rule: its prompt and when it fires")
    listing.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    listing.add_argument("--all", action="store_true", help="include silent marker rules")
    listing.set_defaults(func=run_list)


def run_check(args: argparse.Namespace) -> int:
    try:
        pack = load_pack(args.paths or [default_rules_dir()])
    except RuleError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    print(f"ok: {len(pack.visible)} prompts, {len(pack.rules) - len(pack.visible)} silent rules, "
          f"{len(pack.heat)} heat words in {len(pack.files)} files")
    return 0


def run_list(args: argparse.Namespace) -> int:
    pack = load_pack(args.paths or [default_rules_dir()])
    for rule in pack.rules if args.all else pack.visible:
        print("\n".join(describe(rule)))
    return 0


def describe(rule: Rule) -> list[str]:
    """A rule in words: what it shows and when it fires."""
    head = f"{rule.id} [{rule.article or 'silent'}]" + (f' "{rule.text}"' if rule.text else "")
    lines = [head]
    if rule.phrases:
        shown = ", ".join(f'"{p.text}"' for p in rule.phrases[:6])
        more = f" (+{len(rule.phrases) - 6} more)" if len(rule.phrases) > 6 else ""
        lines.append(f"  fires when {rule.speaker} says {shown}{more}")
    elif rule.on == ("tick",):
        lines.append("  checked continuously")
    else:
        lines.append(f"  fires on {' or '.join(rule.on)}")
    if rule.when:
        groups = [" or ".join(c.text for c in g) for g in rule.when]
        lines.append("  if " + " and ".join(f"({g})" if " or " in g else g for g in groups))
    for ref, seconds in rule.after:
        lines.append(f"  only within {seconds:g} s after {ref}")
    for ref, seconds in rule.not_after:
        what = "the rep said " + ref.split(".")[0] + "'s unless_rep_said" if ref.endswith(".rep_said") else ref
        lines.append(f"  not within {seconds:g} s after {what}")
    lines.append(f"  at most {rule.max_per_call} per call, {rule.cooldown:g} s apart  ({rule.source})")
    return lines
