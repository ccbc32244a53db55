"""Rule files: the playbook loads, and every kind of mistake is reported as file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assist.cli import main
from assist.errors import RuleError
from assist.rules import default_rules_dir, load_pack

BAD = """\
[[rule]]
id = "x"
text = "t"
article = "000"
speaker = "customer"
phrases = ["ok",
  "bad**"]
when = ["hat > 2", "heat >= true", "since_nothing > 3"]
after = { nope = 30 }
cooldwn = 3
priority = "high"
on = "tick"

[other]
a = 1

[state]
story_pause = -1
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "pack.toml"
    path.write_text(text)
    with pytest.raises(RuleError) as err:
        load_pack([path])
    return [line.replace(f"{path}:", "") for line in str(err.value).splitlines()]


def test_the_playbook_is_valid():
    pack = load_pack([default_rules_dir()])
    assert len(pack.visible) == 19 and pack.heat and pack.settings.share_window == 120


def test_default_rules_dir_is_the_repository_rules_and_env_overrides(monkeypatch, tmp_path):
    assert default_rules_dir() == Path(__file__).resolve().parents[1] / "rules"
    monkeypatch.setenv("ASSIST_RULES", str(tmp_path))
    assert default_rules_dir() == tmp_path


def test_every_problem_is_reported_at_its_line(tmp_path):
    found = problems(tmp_path, BAD)
    expected = {
        "7: invalid phrase": 1, "8: unknown measurement 'hat'": 1, "8: heat compares with a number": 1,
        "8: 'since_nothing' refers to unknown rule": 1, "9: after refers to unknown rule or moment 'nope'": 1,
        "10: unknown key 'cooldwn'": 1, "11: priority must be an integer": 1,
        "12: rule 'x' has both phrases and on": 1, "14: unknown table [other]": 1,
        "18: story_pause must be a positive number": 1,
    }
    for start in expected:
        assert sum(line.startswith(start) for line in found) == 1, (start, found)
    assert len(found) == len(expected)


def test_toml_syntax_error_names_the_line(tmp_path):
    assert problems(tmp_path, '[[rule]]\nid = "a"\ntext = \n')[0].startswith("3: ")


def test_duplicate_ids_and_missing_text(tmp_path):
    found = problems(tmp_path, '[[rule]]\nid = "a"\narticle = "1"\n\n[[rule]]\nid = "a"\ntext = "t"\narticle = "1"\n')
    assert found[0].startswith("1: rule 'a' needs text") and found[1].startswith("6: duplicate rule id 'a'")


def test_rules_check_command(tmp_path, capsys):
    (tmp_path / "bad.toml").write_text(BAD)
    assert main(["rules", "check", str(tmp_path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 10 and all(line.startswith(f"{tmp_path / 'bad.toml'}:") for line in err)
    assert main(["rules", "check"]) == 0
    assert "19 prompts" in capsys.readouterr().out


def test_other_commands_refuse_an_invalid_pack_with_the_same_lines(tmp_path):
    import argparse

    from assist.commands.rules import add_rules_option, pack_from_args

    (tmp_path / "bad.toml").write_text(BAD)
    parser = argparse.ArgumentParser()
    add_rules_option(parser)
    with pytest.raises(RuleError) as err:
        pack_from_args(parser.parse_args(["--rules", str(tmp_path)]))
    assert err.value.exit_code == 1 and len(str(err.value).splitlines()) == 10
