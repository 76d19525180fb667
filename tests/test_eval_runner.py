"""The eval runner: end to end on a tiny corpus with the real chain, the error and timeout paths, the HTTP path,
the per-question baseline, and --squad on a two-paragraph file."""

import json
import shutil
import threading
import time
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from eval.gold import GoldQuestion, load_gold
from eval.reports import write_json, write_junit, write_markdown
from eval.runner import ensure_index, eval_cli, run_eval
from eval.strict import MAX_EXTRA_WORDS
from pressqa.settings import REPO_ROOT, Settings
from service.records import Answer, Citation, RelatedRelease

CORPUS = REPO_ROOT / "corpus"
TINY_FILES = [
    "seed/china-central-asia-foreign-ministers-meeting.txt",
    "whitehouse/statements-releases/2021-08/2021-08-02-readout-of-president-joseph-r-biden-jr-call-with-prime-minister-justin-trudeau-of-canada-2.md",
    "whitehouse/statements-releases/2021-01/2021-01-26-readout-of-president-joseph-r-biden-jr-call-with-president-vladimir-putin-of-russia.md",
]
GOLD_IDS = ["seed-turkmenistan", "wh-trudeau-smoked-meats", "unans-seed-meeting-city"]


@pytest.fixture
def gold_file(tmp_path) -> Path:
    """Three questions of the dev set: two answerable (a .txt and a .md release) and one unanswerable."""
    records = [r for r in yaml.safe_load((REPO_ROOT / "eval/gold/dev.yaml").read_text()) if r["id"] in GOLD_IDS]
    path = tmp_path / "gold.yaml"
    path.write_text(yaml.safe_dump(records, sort_keys=False, allow_unicode=True))
    return path


@pytest.fixture
def tiny_corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    for rel in TINY_FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, root / rel)
    return root


def check_report_files(json_path: Path, junit_path: Path, md_path: Path, ids: list[str], set_name: str = "gold") -> dict:
    """The JSON report of one set (the run's info under "run"), after checking all three files agree."""
    data = json.loads(json_path.read_text())
    report = data["sets"][set_name]
    for name in ("pass_rate", "lenient_pass_rate", "strict_fact_recall", "lenient_fact_recall", "exact_match",
                 "answer_contains", "f1", "answer_words_median", "answer_words_p90", "citation_precision",
                 "citation_recall", "provenance", "quote_match", "retrieval_recall_at_5", "mrr", "hasans_pass_rate",
                 "abstention_accuracy", "false_abstention_rate", "latency_p50_s", "latency_p95_s", "by_tag",
                 "questions", "intervals_95"):
        assert name in report, name
    assert [q["id"] for q in report["questions"]] == ids
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert [c.get("name") for c in suite.findall("testcase")] == ids
    failing = {c.get("name") for c in suite.findall("testcase") if c.find("failure") is not None or c.find("error") is not None}
    assert failing == {q["id"] for q in report["questions"] if not q["passed"]}
    md = md_path.read_text()
    assert md.startswith("# pressqa eval") and "| strict_fact_recall |" in md and "95% CI" in md
    report["run"] = data["run"]
    return report


def test_end_to_end_with_the_real_chain(tmp_path, gold_file, tiny_corpus):
    from pressqa.runtime import Runtime

    settings = Settings(data=tmp_path / "data", llm_backend="none", corpus=tiny_corpus)
    out = tmp_path / "out"
    thresholds = tmp_path / "t.yaml"
    thresholds.write_text("min: {retrieval_recall_at_5: 1.0}\n")
    rc = eval_cli(settings, gold=[gold_file], json_out=out / "e.json", junit=out / "e.xml", markdown=out / "e.md", gate=thresholds)
    report = check_report_files(out / "e.json", out / "e.xml", out / "e.md", GOLD_IDS, set_name="gold")
    assert report["run"]["index"]["releases"] == 3 and report["run"]["index"]["added"] == 3
    assert all(q["error"] is None for q in report["questions"]), [q["error"] for q in report["questions"]]
    # Three releases in the index: the gold release is always among the top 5, so origins and URLs match.
    assert report["retrieval_recall_at_5"] == 1.0
    assert rc == 0 and report["gate"]["passed"]

    # A second run reuses the up-to-date index.
    again = ensure_index(Runtime(settings), tiny_corpus, Console(stderr=True))
    assert again["added"] == 0 and again["updated"] == 0 and again["unchanged"] == 3


class ScriptedChain:
    """Answers from a table; raises for one question."""

    def __init__(self, answers: dict[str, Answer | Exception]) -> None:
        self.answers = answers
        self.histories: dict[str, list] = {}

    def ask(self, question, history=None, **_filters):
        self.histories[question] = history
        reply = self.answers[question]
        if isinstance(reply, Exception):
            raise reply
        return reply


SEED_ORIGIN = "/somewhere/corpus/seed/china-central-asia-foreign-ministers-meeting.txt"
SEED_QUOTE = "and Parahat Durdyev, Turkmenistan's Ambassador to China attended the meeting."


def scripted_answers(questions: list[GoldQuestion]) -> dict:
    by_id = {q.id: q for q in questions}
    return {
        by_id["seed-turkmenistan"].question: Answer(
            answer="Parahat Durdyev, Turkmenistan's Ambassador to China [1].",
            abstained=False,
            citations=[Citation(n=1, release_id="sha256:seed", title="t", origin=SEED_ORIGIN, quote=SEED_QUOTE, start=0, end=len(SEED_QUOTE))],
            related=[RelatedRelease(release_id="sha256:seed", title="t", origin=SEED_ORIGIN)],
            confidence=0.81,
        ),
        by_id["wh-trudeau-smoked-meats"].question: RuntimeError("model crashed"),
        by_id["unans-seed-meeting-city"].question: Answer(answer="The releases do not say.", abstained=True, confidence=0.12),
    }


def test_a_raising_question_is_recorded_as_failed_and_the_others_still_scored(tmp_path, gold_file):
    questions = load_gold(gold_file)
    report = run_eval(questions, chain=ScriptedChain(scripted_answers(questions)), timeout_s=30)
    by_id = {q.id: q for q in report.questions}
    assert [q.id for q in report.questions] == GOLD_IDS
    crashed = by_id["wh-trudeau-smoked-meats"]
    assert not crashed.passed and crashed.error == "RuntimeError: model crashed"
    assert by_id["seed-turkmenistan"].passed and by_id["seed-turkmenistan"].metrics["citation_precision"] == 1.0
    assert by_id["unans-seed-meeting-city"].passed
    assert report.summary["errors"] == 1 and report.summary["passed"] == 2
    assert report.summary["lenient_fact_recall"] == 0.5  # the crashed question counts as 0
    assert report.summary["abstention_accuracy"] == 1.0
    assert crashed.latency_s == 30  # an error counts in latency as the timeout

    write_json([report], tmp_path / "e.json")
    write_junit([report], tmp_path / "e.xml")
    write_markdown([report], tmp_path / "e.md")
    check_report_files(tmp_path / "e.json", tmp_path / "e.xml", tmp_path / "e.md", GOLD_IDS)
    case = next(c for c in ET.parse(tmp_path / "e.xml").iter("testcase") if c.get("name") == "wh-trudeau-smoked-meats")
    assert "model crashed" in case.find("error").get("message")


def test_follow_up_history_reaches_the_chain(tmp_path):
    gold = tmp_path / "g.yaml"
    gold.write_text(
        "- id: follow\n  question: And Kazakhstan?\n  facts: [Murat Nurtleu]\n"
        "  history:\n  - {role: user, content: 'Who represented Turkmenistan?'}\n"
        "  - {role: assistant, content: Parahat Durdyev.}\n"
    )
    chain = ScriptedChain({"And Kazakhstan?": Answer(answer="Murat Nurtleu.", abstained=False)})
    report = run_eval(load_gold(gold), chain=chain, timeout_s=30)
    assert [m.content for m in chain.histories["And Kazakhstan?"]] == ["Who represented Turkmenistan?", "Parahat Durdyev."]
    assert report.questions[0].passed


@pytest.fixture
def service_url(gold_file):
    """A real HTTP server speaking POST /api/ask with scripted answers (a stand-in for `pressqa serve`)."""
    answers = scripted_answers(load_gold(gold_file))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            reply = answers.get(body["question"]) if self.path == "/api/ask" else None
            if isinstance(reply, Answer):
                status, payload = 200, reply.model_dump_json().encode()
            else:
                status, payload = 500, b'{"detail": "internal error"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_cli_over_http_writes_reports_and_gates(tmp_path, gold_file, service_url):
    settings = Settings(data=tmp_path / "data")
    out = tmp_path / "out"
    lenient, strict = tmp_path / "lenient.yaml", tmp_path / "strict.yaml"
    lenient.write_text("min: {lenient_fact_recall: 0.5}\nmax: {errors: 1}\n")
    strict.write_text("min: {lenient_fact_recall: 0.9, abstention_accuracy: 1.0}\n")

    rc = eval_cli(settings, gold=[gold_file], url=service_url, json_out=out / "a.json", junit=out / "a.xml",
                  markdown=out / "a.md", gate=lenient)
    report = check_report_files(out / "a.json", out / "a.xml", out / "a.md", GOLD_IDS)
    assert rc == 0 and report["gate"]["passed"]
    assert report["errors"] == 1 and "HTTP 500" in report["questions"][1]["error"]
    assert report["run"]["target"] == f"service {service_url}"
    assert report["run"]["warm_up_s"] is not None  # --url mode warms up too

    rc = eval_cli(settings, gold=[gold_file], url=service_url, json_out=out / "b.json", gate=strict)
    report = json.loads((out / "b.json").read_text())["sets"]["gold"]
    assert rc == 1 and not report["gate"]["passed"]
    assert report["gate"]["missed"] == ["lenient_fact_recall = 0.5 < minimum 0.9"]


def test_an_unmeasured_gated_metric_fails_the_gate(tmp_path, gold_file, service_url):
    gate = tmp_path / "g.yaml"
    gate.write_text("min: {exact_match: 0.1}\n")  # the gold file here has answers, but make them unmeasured:
    records = yaml.safe_load(gold_file.read_text())
    for r in records:
        r.pop("answers", None)
    gold_file.write_text(yaml.safe_dump(records))
    rc = eval_cli(Settings(data=tmp_path / "data"), gold=[gold_file], url=service_url, json_out=tmp_path / "o.json", gate=gate)
    report = json.loads((tmp_path / "o.json").read_text())["sets"]["gold"]
    assert rc == 1 and report["gate"]["unmeasured"] == ["exact_match"] and not report["gate"]["passed"]


def test_baseline_missing_write_then_regression(tmp_path, gold_file, service_url, capsys):
    settings = Settings(data=tmp_path / "data")
    baselines = tmp_path / "baseline"
    # No baseline file: say so and stop before asking anything.
    assert eval_cli(settings, gold=[gold_file], url=service_url, baseline_dir=baselines) == 2
    err = capsys.readouterr().err
    assert "no baseline file" in err and "--write-baseline" in err

    assert eval_cli(settings, gold=[gold_file], url=service_url, baseline_dir=baselines, write_baselines=True) == 0
    written = json.loads((baselines / "gold.json").read_text())
    assert [q["id"] for q in written["questions"]] == GOLD_IDS
    assert [q["passed"] for q in written["questions"]] == [True, False, True]
    # The reader's confidence of each answer is kept (the threshold decided on it); the failed request has none.
    assert [q["confidence"] for q in written["questions"]] == [0.81, None, 0.12]
    assert eval_cli(settings, gold=[gold_file], url=service_url, baseline_dir=baselines) == 0  # unchanged: holds

    # Pretend the crashed question passed in the accepted run: now it is a regression, printed in full.
    written["questions"][1].update(passed=True, answer="The answer the accepted run gave [1].", confidence=0.5)
    (baselines / "gold.json").write_text(json.dumps(written))
    capsys.readouterr()
    rc = eval_cli(settings, gold=[gold_file], url=service_url, baseline_dir=baselines, json_out=tmp_path / "r.json",
                  markdown=tmp_path / "r.md")
    out = capsys.readouterr().out
    assert rc == 1
    assert "REGRESSION gold/wh-trudeau-smoked-meats" in out and "before: The answer the accepted run gave [1]." in out
    assert "now:    (error) RuntimeError: HTTP 500" in out
    assert "confidence: 0.500 → ?" in out  # the same answer across the threshold would read 0.380 → 0.360
    report = json.loads((tmp_path / "r.json").read_text())["sets"]["gold"]
    assert [r["id"] for r in report["baseline"]["regressions"]] == ["wh-trudeau-smoked-meats"]
    assert "before: The answer the accepted run gave" in (tmp_path / "r.md").read_text()
    assert "confidence: 0.500 → ?" in (tmp_path / "r.md").read_text()


class SlowChain:
    def ask(self, question, history=None):
        time.sleep(5)


def test_a_question_past_its_deadline_times_out_and_counts_as_the_timeout(gold_file):
    report = run_eval(load_gold(gold_file)[:1], chain=SlowChain(), timeout_s=0.2)
    q = report.questions[0]
    assert q.timed_out and not q.passed and q.latency_s == 0.2 and q.reason.startswith("timeout")
    assert report.summary["timeouts"] == 1 and report.summary["latency_p95_s"] == 0.2


def test_squad_mode_on_a_two_paragraph_file(tmp_path):
    squad = tmp_path / "tiny-squad.json"
    squad.write_text(json.dumps({"version": "v2.0", "data": [{"title": "Souda_Bay", "paragraphs": [
        {"context": "The U.S. Naval Support Activity Souda Bay is on the island of Crete. It opened in 1969.",
         "qas": [{"id": "a1", "question": "On which island is Naval Support Activity Souda Bay?", "is_impossible": False,
                  "answers": [{"text": "Crete", "answer_start": 55}]},
                 {"id": "u1", "question": "Who commanded Souda Bay in 1890?", "is_impossible": True, "answers": []}]},
        {"context": "Varnholm Maritime School trained the Quellport harbour pilots in 1987.",
         "qas": [{"id": "a2", "question": "Who trained the Quellport harbour pilots?", "is_impossible": False,
                  "answers": [{"text": "Varnholm Maritime School", "answer_start": 0}]}]},
    ]}]}))
    settings = Settings(data=tmp_path / "user-data", llm_backend="none")
    out = tmp_path / "out"
    rc = eval_cli(settings, squad=squad, json_out=out / "s.json", markdown=out / "s.md", junit=out / "s.xml",
                  baseline_dir=tmp_path / "baseline", write_baselines=True)
    assert rc == 0
    data = json.loads((out / "s.json").read_text())
    report = data["sets"]["tiny-squad"]
    assert report["kind"] == "squad" and report["question_count"] == 3 and report["errors"] == 0
    assert report["run"]["index"]["releases"] == 2 if "run" in report else data["run"]["index"]["releases"] == 2
    for name in ("exact", "f1", "HasAns_exact", "HasAns_f1", "NoAns_exact", "provenance"):
        assert name in report, name
    cited = {c["title"] for q in report["questions"] for c in q["citations"]}
    assert cited <= {"Souda Bay (1)", "Souda Bay (2)"}
    assert not (tmp_path / "user-data").exists()  # the user's data dir is never touched
    written = json.loads((tmp_path / "baseline" / "tiny-squad.json").read_text())
    assert all(0.0 < q["confidence"] <= 1.0 for q in written["questions"])  # the real reader's, kept per question
    assert "HasAns" in (out / "s.md").read_text()


def test_cli_rejects_a_bad_gold_file(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: a\n  question: Q?\n- id: a\n  question: Again?\n")
    assert eval_cli(Settings(data=tmp_path / "data"), gold=[bad], url="http://127.0.0.1:9") == 2
    assert "duplicate id" in capsys.readouterr().err
