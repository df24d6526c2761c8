"""make review-train (bot/ops/review/retrain.py) with real models: the comparison and one real training.

Everything runs on copies in tmp_path: the checkout's data/ and models/ are never written. The
training takes a few minutes; the other tests train nothing (the cases without a model:
tests/bot/test_review_retrain.py).
"""

from __future__ import annotations

import copy
import shutil

import pytest

from bot import PROJECT_DIR
from bot.ops.review import retrain
from tests.support.reviewed import write_reviewed

MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"


@pytest.fixture(scope="module")
def current_scores(tmp_path_factory):
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train`"
    return retrain.score(MODEL, tmp_path_factory.mktemp("scores"), "current")


def test_a_candidate_as_good_as_the_model_is_accepted_and_the_owner_told_to_restart(tmp_path, capsys):
    """The whole command on a candidate trained already (the current model itself): equal figures pass,
    the file is replaced (by the same bytes) and the one before is kept."""
    write_reviewed(tmp_path / "data", "reviewed.yml", {})
    model = tmp_path / "careerbot.tar.gz"
    shutil.copyfile(MODEL, model)

    code = retrain.main(["--data", str(tmp_path / "data"), "--model", str(model), "--candidate", str(MODEL)])

    out = capsys.readouterr().out
    assert code == 0, out
    assert (
        "off-topic dev split" in out
        and "WORSE" not in out
        and "test stories (tests/stories) with the candidate: passed" in out
    )
    assert f"accepted: {model} is the new model" in out and "Restart the bot" in out
    assert model.read_bytes() == MODEL.read_bytes() == (model.parent / "careerbot.previous.tar.gz").read_bytes()


def test_one_line_more_wrong_or_leaked_is_worse(current_scores):
    """The decision on real evaluate output: one test line fewer right, or one off-topic line more leaked."""
    fewer_right = copy.deepcopy(current_scores)
    fewer_right["tests/nlu/test_set.yml"]["right"] -= 1
    more_leaked = copy.deepcopy(current_scores)
    more_leaked["off-topic dev split"]["leaked"] += 1
    fewer_leaked = copy.deepcopy(current_scores)
    fewer_leaked["off-topic dev split"]["leaked"] -= 1

    figures = retrain.compare(current_scores, current_scores)
    assert {f.set_name for f in figures} == {
        "tests/nlu/test_set.yml",
        "tests/nlu/test_set.yml, misspelled (bot/devtools/noise.py, seed 20)",
        "off-topic dev split",
    }
    assert [f for f in figures if f.worse] == [] and "WORSE" not in retrain.render(figures)
    worse = [(f.set_name, f.label) for f in retrain.compare(current_scores, fewer_right) if f.worse]
    assert worse == [("tests/nlu/test_set.yml", "intent accuracy")]
    figures = retrain.compare(current_scores, more_leaked)
    assert [(f.set_name, f.label[:4]) for f in figures if f.worse] == [("off-topic dev split", "leak")]
    assert [line for line in retrain.render(figures).splitlines() if "WORSE" in line][0].lstrip().startswith("leak")
    assert [f for f in retrain.compare(current_scores, fewer_leaked) if f.worse] == []


# Questions about pay and employers, written for this test (none a near-copy of a test line: the retrain
# would refuse it), reviewed as out of scope; questions about licensing reviewed as hours, and about
# certification as employers. A candidate trained with them answers fewer test lines right.
MISLABELLED_PAY = [
    "what kind of money does a servicing specialist bring home",
    "is the salary for this job enough to live on",
    "how big is the paycheck in mortgage servicing",
    "what would my earnings look like in the first year",
    "do these specialists get paid well compared to tellers",
    "roughly what does the role pay per hour",
    "how much cash do you make doing loan servicing",
    "is there a bonus on top of the base pay",
    "what's the going rate for this kind of work",
    "how much do the top earners in this field make",
    "what does an entry level specialist get paid",
    "tell me the annual compensation for the job",
    "would I make six figures doing this",
    "what is the median income for these workers",
    "how well does mortgage servicing pay in general",
    "what salary should i expect after five years",
    "is the hourly wage above minimum wage",
    "does the pay go up much with experience",
    "how does their salary compare to the national average",
    "what's a realistic starting salary",
    "how much money is there in servicing loans",
    "are servicing specialists underpaid",
    "what's the pay like at the big banks",
    "how much could i earn a month",
    "what do they take home each week",
    "is the money good in this line of work",
    "what is the wage range for the position",
    "do they earn more than loan officers",
    "what does the job pay before taxes",
    "would that pay cover rent in a big city",
]
MISLABELLED_EMPLOYERS = [
    "what sort of business takes on people for loan servicing",
    "who are the biggest employers for this job",
    "do credit unions take on servicing staff",
    "what kind of firms would employ me",
    "can i work for a bank doing this",
    "are there government agencies that hire for it",
    "which lenders have servicing departments",
    "would an insurance company hire someone like this",
    "where do most of these specialists end up working",
    "do servicers outsource this work to other companies",
    "what type of organisation should i apply to",
    "is it mostly big banks or small firms that hire",
    "who would i be working for in this role",
    "are there remote employers for servicing jobs",
    "does Fannie Mae employ servicing specialists",
    "what industries need loan servicing people",
    "could a real estate company hire me for this",
    "name some employers that recruit for this position",
    "do mortgage brokers hire servicing specialists too",
    "which sectors employ the most people in this job",
]
MISLABELLED_CERTIFICATION = [
    "is there a professional certificate for servicing specialists",
    "what does the CRMS designation involve",
    "which trade association offers a credential for this",
    "should i earn a certificate before applying",
    "how long does the servicing certification course take",
    "is the MBA certification worth getting",
    "can a certificate help me stand out to hiring managers",
    "what voluntary credentials exist in mortgage servicing",
    "do employers value the certified residential specialist title",
    "where can i study for a servicing certificate online",
    "how much does the certification exam cost",
    "is there a body that certifies loan servicers",
    "does a professional designation raise your chances of promotion",
    "what continuing education keeps a certification current",
    "which certificate programs cover loss mitigation",
    "is joining the mortgage bankers association useful",
    "are there online badges or credentials for this career",
    "what qualification can i add after a year on the job",
    "would a compliance certificate help in servicing",
    "how do i become a certified mortgage servicer",
]
MISLABELLED_LICENSING = [
    "do states make you hold a licence for servicing",
    "do i have to be licensed to service mortgages",
    "which certification do servicing specialists need",
    "is there an exam to get licensed",
    "do you need the NMLS licence for this role",
    "what credentials does the job require by law",
    "must i register with the state to do this",
    "is certification optional or mandatory here",
    "how do i get the license for mortgage servicing",
    "does this career need any official permit",
]


@pytest.mark.timeout(1500)  # a full training beside make test's other work
def test_a_retrain_that_makes_the_blind_set_worse_is_refused_and_the_model_stays(tmp_path, capfd):
    data = tmp_path / "data"
    shutil.copytree(PROJECT_DIR / "data", data, ignore=shutil.ignore_patterns("offtopic"))
    write_reviewed(data, "reviewed_out_of_scope.yml", {"out_of_scope": MISLABELLED_PAY + MISLABELLED_EMPLOYERS})
    write_reviewed(
        data, "reviewed.yml", {"ask_hours": MISLABELLED_LICENSING, "ask_employers": MISLABELLED_CERTIFICATION}
    )
    model = tmp_path / "models" / "careerbot.tar.gz"
    model.parent.mkdir()
    shutil.copyfile(MODEL, model)

    code = retrain.main(["--data", str(data), "--model", str(model)])

    out, err = capfd.readouterr()
    with capfd.disabled():
        print("\n" + out + err)
    assert code == 1
    assert "80 reviewed lines" in out
    # Each figure marked WORSE in the table is named in the refusal, with its set.
    worse, name = [], ""
    for line in out.splitlines():
        if line and not line.startswith(" "):
            name = line
        elif line.endswith("  WORSE"):
            worse.append(f"{name}: {line.strip()[:48].rstrip()}")
    assert worse and any(w.startswith("tests/nlu/test_set.yml") for w in worse), out
    assert err.startswith("refused (worse: ") and all(w in err for w in worse), err
    assert model.read_bytes() == MODEL.read_bytes()
    assert sorted(p.name for p in model.parent.iterdir()) == ["careerbot.tar.gz"]
