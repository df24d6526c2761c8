"""`python -m bot.knowledge` (`make check-knowledge`): a site owner's check of a knowledge directory, as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from bot import KNOWLEDGE_DIR, PROJECT_DIR
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "knowledge" / "lighthouse_keeper.yml"


def check(*args, **env):
    """The command's exit code, standard output and standard error."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CAREERBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot.knowledge", *map(str, args)],
        cwd=PROJECT_DIR,
        env={**environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def site(tmp_path):
    """A copy of the real knowledge directory, to break."""
    directory = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, directory)
    return directory


def test_the_settings_directory_lists_every_career_with_its_names_and_topics():
    code, out, err = check(CAREERBOT_CAREER="mortgage_servicing_specialist")
    assert code == 0, err
    assert (
        "mortgage_servicing_specialist (default): mortgage servicing specialist; mortgage servicing specialists" in out
    )
    assert "loan_officers: loan officer; loan officers" in out
    assert "tellers: teller; tellers; bank teller" in out
    tellers = out[out.index("tellers:") :].splitlines()
    assert tellers[1] == "  covers: overview, duties, employers, pay"
    assert tellers[2].startswith("  does not cover: ") and "licensing" in tellers[2] and "hours" in tellers[2]
    assert f"3 career file(s) in {KNOWLEDGE_DIR} are valid, default mortgage_servicing_specialist" in out
    assert err == ""


def test_another_directory_is_named_on_the_command_line(tmp_path):
    shutil.copy(FIXTURE, tmp_path / FIXTURE.name)
    code, out, _ = check(tmp_path, CAREERBOT_CAREER="mortgage_servicing_specialist")
    assert code == 0  # the settings' default career belongs to the settings' directory only
    assert "lighthouse_keeper (default): lighthouse keeper; lighthouse keepers" in out
    assert "  does not cover: nothing" in out


def one_error_line(code, err):
    assert code == 1
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.startswith("error: ")]


def test_a_schema_error_names_the_file_the_field_and_the_expectation(site):
    broken = site / "tellers.yml"
    broken.write_text(broken.read_text().replace("  plural: tellers\n", ""))
    code, out, err = check(site)
    assert one_error_line(code, err) == [f"error: {broken}: field 'career.plural': missing; expected it to be present"]
    assert "loan_officers: loan officer" in out  # the good files are still listed
    assert "1 broken career file(s)" in err


def test_a_yaml_error_names_the_line(site):
    broken = site / "loan_officers.yml"
    broken.write_text("career: [unclosed\n")
    lines = one_error_line(*check(site)[::2])
    assert len(lines) == 1 and lines[0].startswith(f"error: {broken}: field 'line 2, column 1': expected valid YAML")


def test_every_broken_file_is_named(site):
    (site / "tellers.yml").write_text("- a list\n")
    shutil.copy(FIXTURE, site / "Lighthouse.yml")
    lines = one_error_line(*check(site)[::2])
    assert lines == [
        f"error: {site / 'Lighthouse.yml'}: field '(file name)': expected a career id as the name (a-z, 0-9, _), "
        "got 'Lighthouse.yml'",
        f"error: {site / 'tellers.yml'}: field '(top level)': expected a mapping, got list",
    ]


def test_a_name_two_careers_share_is_refused(site):
    copy = site / "bank_tellers.yml"
    copy.write_text((site / "tellers.yml").read_text())
    lines = one_error_line(*check(site)[::2])
    assert lines == [
        f"error: {site / 'tellers.yml'}: field 'career.name': expected a name no other career uses; "
        "'teller' also names 'bank_tellers'"
    ]


def test_a_default_career_without_a_file_is_refused(site):
    lines = one_error_line(*check(site, "--career", "astronomers")[::2])
    assert lines == [
        f"error: {site}: field 'CAREERBOT_CAREER': expected one of loan_officers, "
        "mortgage_servicing_specialist, tellers, got 'astronomers'"
    ]


def test_an_empty_or_missing_directory_is_refused(tmp_path):
    assert one_error_line(*check(tmp_path)[::2]) == [
        f"error: {tmp_path}: field '(directory)': expected at least one career file (*.yml)"
    ]
    assert one_error_line(*check(tmp_path / "nowhere")[::2]) == [
        f"error: {tmp_path / 'nowhere'}: expected a directory of career files (*.yml)"
    ]


def test_a_link_to_a_career_without_a_file_is_a_warning(tmp_path):
    text = FIXTURE.read_text().replace(
        "  country: US\n", "  country: US\n  related:\n    - {name: harbour masters, career: harbour_masters}\n"
    )
    (tmp_path / FIXTURE.name).write_text(text)
    code, out, _ = check(tmp_path)
    assert code == 0
    assert (
        f"warning: {tmp_path / FIXTURE.name}: field 'career.related[0].career': expected a career of this "
        "directory (lighthouse_keeper), got 'harbour_masters'"
    ) in out
