"""`make audit` never claims "no known vulnerabilities" unless every package was checked."""

from bot.ops.audit import parse, verdict

CHECKED = {"name": "rasa", "version": "3.6.21", "vulns": []}
SKIPPED = {"name": "spacy", "skip_reason": "Dependency not found on PyPI and could not be audited: spacy (3.4.4)"}
VULNERABLE = {"name": "sanic", "version": "21.12.2", "vulns": [{"id": "GHSA-xxxx", "fix_versions": ["23.12.1"]}]}


def test_offline_run_is_incomplete_not_clean():
    code, message = verdict(parse({"dependencies": [SKIPPED, SKIPPED]}))
    assert code == 2
    assert message.startswith("audit incomplete: 2 of 2 packages could not be checked")
    assert "no known vulnerabilities" not in message.lower()


def test_one_skipped_package_makes_the_audit_incomplete():
    code, message = verdict(parse({"dependencies": [CHECKED, SKIPPED]}))
    assert code == 2 and "1 of 2 packages" in message


def test_vulnerabilities_are_listed():
    code, message = verdict(parse({"dependencies": [CHECKED, VULNERABLE]}))
    assert code == 1
    assert "sanic 21.12.2: GHSA-xxxx (fixed in 23.12.1)" in message


def test_a_complete_clean_audit():
    assert verdict(parse({"dependencies": [CHECKED]})) == (0, "all 1 packages checked: no known vulnerabilities.")


def test_an_empty_report_is_not_clean():
    assert verdict(parse({"dependencies": []}))[0] == 2
