"""tierlens.toml: defaults, errors that name the key and the file, and the docs."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from pipelines.config import Config, ConfigError, load_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_defaults_without_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.reporting_timezone == "UTC"
    assert config.targets["l1_resolution_rate"].green_min == 0.70
    assert config.escalation.quick_fix_minutes == 15


def test_errors_name_the_key_and_the_file(tmp_path):
    path = tmp_path / "tierlens.toml"
    path.write_text(
        'week_start = "someday"\n[ingest]\nsource_timezone = "Mars/Olympus"\n'
        "[targets.bounceback_rate]\nred_abov = 0.2\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: invalid configuration")
    assert "week_start:" in message
    assert "ingest.source_timezone: unknown time zone 'Mars/Olympus'" in message
    assert "targets.bounceback_rate.red_abov: unknown key" in message


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("reporting_timezone = \n")
    with pytest.raises(ConfigError, match=r"bad.toml: not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"nope.toml: configuration file not found"):
        load_config(tmp_path / "nope.toml")


def test_tier_rule_needs_one_matcher(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[[tier_map]]\ntier = "L1"\n')
    with pytest.raises(ConfigError, match=r"tier_map.0: a tier rule needs exactly one"):
        load_config(path)


def test_partner_targets_and_partial_target_overrides(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        "[targets.l1_resolution_rate]\ngreen_min = 0.8\n"
        '[partner_targets.acme.l1_resolution_rate]\ngreen_min = 0.5\nlabel = "contract"\n'
    )
    config = load_config(path)
    assert config.targets["l1_resolution_rate"].green_min == 0.8
    assert config.partner_targets["acme"]["l1_resolution_rate"].label == "contract"
    assert config.targets["bounceback_rate"].red_above == 0.20  # default kept


def test_a_target_for_an_unknown_metric_is_refused(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text(
        "[targets.l1_resolution_rat]\ngreen_min = 0.8\n"
        "[partner_targets.acme.no_such_kpi]\ngreen_min = 0.5\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert "targets: unknown metric 'l1_resolution_rat' (did you mean l1_resolution_rate?)" in (
        message
    )
    assert "partner_targets: unknown metric 'no_such_kpi'" in message


def test_documented_example_is_valid_and_covers_every_key():
    text = DOC.read_text()
    example = re.search(r"```toml\n(.*?)```", text, re.S).group(1)
    Config.model_validate(tomllib.loads(example))
    for key in Config.model_fields:
        assert key in text, f"docs/configuration.md does not document {key}"
    for section in ("ingest", "escalation", "clocks"):
        sub = Config.model_fields[section].annotation
        for key in sub.model_fields:
            assert key in text, f"docs/configuration.md does not document {section}.{key}"


def test_status_map_adds_to_the_built_in_map(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[status_map]\n"Awaiting Parts" = "wait"\n"new" = "work"\n')
    config = load_config(path)
    assert config.status_map["awaiting parts"] == "wait"
    assert config.status_map["new"] == "work"
    assert config.status_map["closed"] == "closed"


def test_every_environment_variable_is_documented():
    root = DOC.parents[1]
    used = {
        name
        for folder in ("pipelines", "dashboards")
        for path in (root / folder).rglob("*.py")
        for name in re.findall(r"TIERLENS_[A-Z_]+", path.read_text())
    }
    assert used >= {"TIERLENS_MEMORY_LIMIT", "TIERLENS_LOCK_WAIT"}
    table = DOC.read_text().split("## Environment variables", 1)[1]
    for name in sorted(used):
        assert f"`{name}`" in table, f"docs/configuration.md does not document {name}"
