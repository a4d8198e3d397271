"""PII configuration from Python keywords and TOML, and redaction of in-memory Arrow data."""

import pyarrow as pa
import pytest

from shardguard import Auditor, ConfigError

KEY = "00112233445566778899aabbccddeeff"
ROWS = [
    "Mail jo.doe@corp-mail.com or ops@acme.com, call (212) 736-5000.",
    None,
    "card 4111 1111 1111 1111, EMP-123456, db_password = \"Kst4QQiQtG9\"",
    "nothing here",
]


def table():
    return pa.table({"id": [1, 2, 3, 4], "text": pa.array(ROWS, pa.large_string()), "score": [0.1, 0.2, 0.3, 0.4]})


def kinds(auditor):
    return sorted(r["kind"] for r in auditor.scan(table()).to_pylist())


def test_keywords_choose_kinds_allow_domains_and_add_rules():
    a = Auditor(["pii", "secret"], key=KEY)
    assert kinds(a) == ["CREDIT_CARD", "EMAIL", "EMAIL", "PASSWORD", "PHONE"]
    a = Auditor(["pii"], key=KEY, kinds=["EMAIL", "EMPLOYEE_ID"], allow_domains=["acme.com"],
                rules=[{"name": "EMPLOYEE_ID", "pattern": r"\bEMP-\d{6}\b"}])
    assert kinds(a) == ["EMAIL", "EMPLOYEE_ID"]
    luhn = Auditor(["pii"], key=KEY, kinds=["LOYALTY"],
                   rules=[{"name": "LOYALTY", "pattern": r"\b(?:\d{4} ){3}\d{4}\b", "validator": "luhn"}])
    assert kinds(luhn) == ["LOYALTY"]


def test_toml_file_with_keyword_overrides(tmp_path):
    cfg = tmp_path / "rules.toml"
    cfg.write_text('kinds = ["PHONE"]\nphone_regions = ["US"]\n[allow]\nvalues = ["(212) 736-5000"]\n')
    assert kinds(Auditor(["pii"], key=KEY, config=cfg)) == []
    assert kinds(Auditor(["pii"], key=KEY, config=cfg, kinds=["EMAIL"])) == ["EMAIL", "EMAIL"]


@pytest.mark.parametrize("bad", [
    dict(kinds=["NOT_A_KIND"]),
    dict(phone_regions=["XX"]),
    dict(rules=[{"name": "lower", "pattern": "x"}]),
    dict(rules=[{"name": "R", "pattern": "("}]),
    dict(rules=[{"name": "R", "pattern": "x", "validator": "crc"}]),
])
def test_bad_rules_raise_config_errors(bad):
    with pytest.raises(ConfigError):
        Auditor(["pii"], key=KEY, **bad)


def test_bad_toml_names_the_file(tmp_path):
    cfg = tmp_path / "broken.toml"
    cfg.write_text("kinds = [\n")
    with pytest.raises(ConfigError, match="broken.toml"):
        Auditor(["pii"], key=KEY, config=cfg)


@pytest.mark.parametrize("mode", ["tag", "mask", "pseudonym"])
def test_redact_keeps_other_columns_and_leaves_nothing_to_find(mode):
    a = Auditor(["pii", "secret"], key=KEY)
    t = table()
    out = a.redact(t, mode=mode)
    assert out.schema == t.schema
    assert out.column("id") == t.column("id") and out.column("score") == t.column("score")
    texts = out.column("text").to_pylist()
    assert texts[1] is None and texts[3] == "nothing here"
    assert "jo.doe" not in texts[0] and "736-5000" not in texts[0] and "Kst4QQ" not in texts[2]
    assert a.scan(out).num_rows == 0
    assert a.last_redaction["replaced"] == 5
    if mode == "tag":
        assert texts[0] == "Mail <EMAIL> or <EMAIL>, call <PHONE>."


def test_pseudonyms_follow_the_key():
    t = pa.table({"text": ["call (212) 736-5000", "again (212) 736-5000"]})
    same = Auditor(["pii"], key=KEY).redact(t, mode="pseudonym").column("text").to_pylist()
    assert same[0][5:] == same[1][6:]
    other = Auditor(["pii"], key="ff" * 16).redact(t, mode="pseudonym").column("text").to_pylist()
    assert other[0] != same[0]


def test_redact_rejects_unknown_modes():
    with pytest.raises(ConfigError):
        Auditor(["pii"], key=KEY).redact(table(), mode="blur")
