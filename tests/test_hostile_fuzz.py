"""A fuzzer over the command line (issue 12), drawn by hypothesis from a fixed seed: hostile
formulas, programs, points and answers through derive (every text format), graph and check;
hostile problem sets, keys and submissions (TOML and CSV, titles, names, comments) through
handout (every format) and grade. Every run ends in exit status 0, 1 or 2; a refusal is one
line and writes nothing; nothing is an internal error or a traceback; no run takes over 10 CPU seconds (not
wall-clock: a loaded machine does not fail it; the speed targets are benchmarks/bench_hostile.py);
no written file holds user text in a code position (raw HTML in Markdown, Typst or LaTeX
code), a control character, or a spreadsheet formula.

WORKSHEET_HOSTILE_CASES and WORKSHEET_HOSTILE_FILE_CASES set the number of inputs (5,000 and
1,500); WORKSHEET_HOSTILE_SEED=N draws other inputs than CI's."""

from __future__ import annotations

import json
import os
import re

from hypothesis import HealthCheck, event, given, seed, settings
from hypothesis import strategies as st

from conftest import CpuTime

CASES = int(os.environ.get("WORKSHEET_HOSTILE_CASES", "5000"))
SEED = os.environ.get("WORKSHEET_HOSTILE_SEED")


def fuzz(cases: int):
    """hypothesis's settings for a fuzzer: a fixed seed (or SEED's), no deadline, no database."""
    def decorate(test):
        test = settings(max_examples=cases, derandomize=SEED is None, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))(test)
        return seed(int(SEED))(test) if SEED is not None else test
    return decorate

SECONDS = 10.0  # CPU seconds of one run, typesetting's child process included

NAMES = ["x", "y", "w", "b"]
ODD_NAMES = ["v1", "L", "sin", "pi", "e", "param", "_", "__class__", "x_1"]
NUMBERS = ["0", "1", "2", "3", "0.5", "-1", "1e308", "1e-308", "0e999999999", "9**9**9", "10**400",
           "3**(2**20)", "-0.0", "1e999", "0x10", "1_000", "00012", ".5", "5.", "1/3", "2**-1074", "1000", "-700"]
UNARY = ["sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "softplus", "abs", "sinh",
         "cosh", "atan", "asin", "mean", "sum", "stop_gradient", "silu", "elu", "gelu", "logsumexp",
         "log_softmax"]
BINARY = ["max", "min", "leaky_relu"]
OPERATORS = ["+", "-", "*", "/", "**", "^", "@", "%", "//"]
NOISE = ["(", ")", ",", "=", ";", "#", "\n", "'", '"', "[", "]", ".T", "\\", "$", "{", "}", " ", "\t",
         "\x1b[2J", "\u202e", "\x00", "é", "∂", "<script>", "`", "|", "&"]


def _expression(depth: int):
    leaf = st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.sampled_from(NUMBERS),
                     st.sampled_from(ODD_NAMES))
    if depth == 0:
        return leaf
    inner = _expression(depth - 1)
    binary = st.tuples(inner, st.sampled_from(OPERATORS[:5]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}")
    call = st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})")
    return st.one_of(
        leaf, binary, binary, call, call,
        st.tuples(st.sampled_from(BINARY), inner, inner).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(inner, st.sampled_from(OPERATORS[5:]), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda e: f"({e})"),
        st.tuples(inner, st.sampled_from(NOISE), inner).map(lambda t: t[0] + t[1] + t[2]),
    )


FORMULA = _expression(3)
POINT = st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NUMBERS)), max_size=4).map(
    lambda pairs: ",".join(f"{k}={v}" for k, v in pairs))
PROGRAM = st.lists(st.tuples(st.sampled_from(["", "", "param ", "data "]), st.sampled_from(NAMES + ["v1", "L"]), FORMULA),
                   min_size=1, max_size=4).map(lambda lines: "\n".join(f"{k}{n} = {e}" for k, n, e in lines))
RUN = st.one_of(
    st.tuples(st.just("derive"), FORMULA, POINT, st.sampled_from(["txt", "md", "json", "tex", "typ", "torch"])),
    st.tuples(st.just("graph"), FORMULA, POINT, st.sampled_from(["mermaid", "tikz", "svg"])),
    st.tuples(st.just("check"), FORMULA, POINT, FORMULA),
    st.tuples(st.just("program"), PROGRAM, POINT, st.sampled_from(["txt", "md", "json"])),
)


def _arguments(run, tmp) -> list[str]:
    kind, text, point, last = run
    at = ["--at", point] if point else []
    if kind == "derive":
        return ["derive", text, *at, "-f", last]
    if kind == "graph":
        return ["graph", text, *at, "-f", last]
    if kind == "check":
        return ["check", text, "--wrt", "x", *at, "--answer", last]
    path = tmp / "fuzz.ws"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return ["derive", str(path), *at, "-f", last]


@fuzz(CASES)
@given(RUN)
def test_no_input_reaches_an_internal_error(cli_runner, run):
    arguments = _arguments(run, cli_runner.tmp)
    with CpuTime() as took:
        result = cli_runner(*arguments)
    assert result.code in (0, 1, 2), (arguments, result.code, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, (arguments, result.err)
    if result.code == 2 and not (arguments[0] == "check" and result.out.startswith("invalid\n")):
        assert result.err.count("\n") == 1, (arguments, result.err)  # a refusal (else the verdict invalid)
    assert took.seconds < SECONDS, (arguments, took.seconds)


# ── files: problem sets for handout, keys and submissions for grade ──────────────────────

FILE_CASES = int(os.environ.get("WORKSHEET_HOSTILE_FILE_CASES", "1500"))

PLAIN_PARTS = ["Sheet", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
               '#panic("owned")', '#raw(read("manifest.json"))', "\\errmessage{owned}", "\\input{/etc/passwd}",
               "$x$", "%", "&", "_", "{", "}", "~", "^", "`", "é", "∂L/∂w", "'", '"', "\\", "=cmd|' /C calc'!A0",
               "--", "*bold*", "# h", "|", " ", "<!--", "]]>", "${x}"]
CONTROL_PARTS = ["\n", "\x1b[2J", "\u202e", "\t", "\x00", "\r"]
TEXT = st.one_of(st.lists(st.sampled_from(PLAIN_PARTS), min_size=1, max_size=3).map("".join),
                 st.lists(st.sampled_from(PLAIN_PARTS + CONTROL_PARTS), max_size=3).map("".join))
GOOD_FORMULAS = ["(w*x+b-y)**2", "sigmoid(w*x+b)", "relu(w*x)", "tanh(w)*x", "log(1+exp(w*x))", "w**2/x",
                 "max(w, x)*b", "(sigmoid(w*x+b) - y)**2", "sqrt(w*w + 1)", "exp(-w*x)"]
GOOD_PROGRAMS = ["y_pred = w*x + w*w\nL = (y_pred - y)**2", "param w = 1\ndata x = 2\nL = (w*x - 1)**2",
                 "h = relu(w*x + b)\nL = (h - y)**2"]
GOOD_ANSWERS = ["2*(w*x+b-y)*x", "2(w*x+b-y)", "sigmoid(w*x+b)*(1-sigmoid(w*x+b))*x", "step(w*x)*x", "x", "0",
                "-8", "1/2", "2*(w*x+w*w-y)*(x+2*w)", "x*(1-tanh(w)**2)"]
TOML_NUMBERS = ["-3", "3", "0", "1", "0.5", "-2", "1e308", "-1e308", "1e-300", "inf", "nan", "99999999999999999999",
                '"3"', "true", "[1]", "{}"]
VARY = st.one_of(
    st.sampled_from(["[-3, 3]", "[1, 4]", "{min = -1, max = 1, step = 0.5}", "[0, 1]"]),
    st.tuples(st.sampled_from(TOML_NUMBERS), st.sampled_from(TOML_NUMBERS)).map(lambda t: f"[{t[0]}, {t[1]}]"),
    st.tuples(*[st.sampled_from(TOML_NUMBERS)] * 3).map(lambda t: f"{{min = {t[0]}, max = {t[1]}, step = {t[2]}}}"),
)
PROGRAM_FILES = ["fuzz.ws", "../fuzz.ws", "/etc/hostname.txt", "missing.ws", "sub/../fuzz.ws"]
TOML_NOISE = ["[", "]", "=", '"', "\n", "[[problem]]\n", "[[question]]\n", "\x00", "\ufeff", "#", "'''",
              ".".join("k" * 40) + " = 1\n", "x = " + "[" * 40 + "1" + "]" * 40 + "\n", "title = 1\n"]
WRT = st.one_of(st.just("w"), st.just("w"), st.sampled_from(["w,b", "x", "", "q", "w,w", "x,y", "b"]))
AT = st.one_of(st.none(), st.sampled_from(["x=2,y=4", "x=2", "b=0,x=2,y=4", "w=1,b=0,x=2,y=4"]), st.lists(st.tuples(st.sampled_from(NAMES), st.sampled_from(NUMBERS)), min_size=1, max_size=4).map(
    lambda pairs: ",".join(f"{k}={v}" for k, v in pairs)))


def _string(text: str) -> str:
    """A TOML basic string of ``text`` (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)


SOURCE = st.one_of(
    st.sampled_from(GOOD_FORMULAS).map(lambda f: f"expression = {_string(f)}"),
    st.sampled_from(GOOD_FORMULAS).map(lambda f: f"expression = {_string(f)}"),
    st.sampled_from(GOOD_PROGRAMS).map(lambda p: f"program = {_string(p)}"),
    FORMULA.map(lambda f: f"expression = {_string(f)}"),
    PROGRAM.map(lambda p: f"program = {_string(p)}"),
    st.sampled_from(PROGRAM_FILES).map(lambda f: f"program = {_string(f)}"),
)
PROBLEM = st.tuples(SOURCE, st.none() | WRT, AT,
                    st.none() | st.sampled_from(['["forward"]', '["local", "gradients"]', '["nonsense"]', '[]', '1']),
                    st.dictionaries(st.sampled_from(NAMES), VARY, max_size=3).map(dict.items)).map(
    lambda p: "\n".join(["[[problem]]", p[0],
                         *([f"wrt = {_string(p[1])}"] if p[1] is not None else []),
                         *([f"at = {_string(p[2])}"] if p[2] is not None else []),
                         *([f"blanks = {p[3]}"] if p[3] is not None else []),
                         *(["[problem.vary]", *(f"{n} = {v}" for n, v in p[4])] if p[4] else [])]))
QUESTION_IDS = ["q1", "q2", "q3", "", "=1+1", "<b>q</b>", "q 1", "\x1b"]
QUESTION = st.tuples(st.sampled_from(QUESTION_IDS), SOURCE, WRT,
                     st.none() | st.sampled_from(["1", "2", "0", "-1", "1e308", '"a"', "0.5"]), AT).map(
    lambda q: "\n".join(["[[question]]", f"id = {_string(q[0])}", q[1], f"wrt = {_string(q[2])}",
                         *([f"points = {q[3]}"] if q[3] is not None else []),
                         *([f"at = {_string(q[4])}"] if q[4] is not None else [])]))


def _toml(title, tables, noise):
    text = "\n".join(([f"title = {_string(title)}"] if title is not None else []) + tables) + "\n"
    for position, fragment in noise:
        at = position % (len(text) + 1)
        text = text[:at] + fragment + text[at:]
    return text


NOISE_AT = st.one_of(st.just([]), st.just([]), st.just([]),
                     st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(TOML_NOISE)), min_size=1, max_size=2))
PROBLEM_SET = st.builds(_toml, st.none() | TEXT, st.lists(PROBLEM, min_size=1, max_size=2), NOISE_AT)
KEY = st.builds(_toml, st.none() | TEXT, st.lists(QUESTION, min_size=1, max_size=3), NOISE_AT)
GOOD_PROBLEMS = [  # well-formed problems (as in samples/backprop_set.toml), to reach the sheets and keys
    '[[problem]]\nexpression = "(w*x+b-y)**2"\nwrt = "w,b"\nat = "x=2,y=4"\n[problem.vary]\nw = [-3, 3]\n'
    'b = {min = -2, max = 2, step = 0.5}',
    '[[problem]]\nexpression = "(sigmoid(w*x+b) - y)**2"\nwrt = "w,b"\nat = "x=2"\nblanks = ["forward", "local"]\n'
    '[problem.vary]\nw = [-2, 2]\nb = [-4, 4]\ny = [0, 1]',
    '[[problem]]\nprogram = "fuzz.ws"\nwrt = "w"',
    '[[problem]]\nexpression = "relu(w*x)"\nwrt = "w"\nat = "x=3"\n[problem.vary]\nw = [1, 4]',
]
GOOD_QUESTIONS = [  # as in samples/grading/key.toml
    '[[question]]\nid = "q1"\nexpression = "(w*x+b-y)**2"\nwrt = "w"\npoints = 2',
    '[[question]]\nid = "q2"\nexpression = "sigmoid(w*x+b)"\nwrt = "w"',
    '[[question]]\nid = "q3"\nprogram = "y_pred = w*x + w*w\\nL = (y_pred - y)**2"\nwrt = "w"\npoints = 2',
    '[[question]]\nid = "q4"\nexpression = "(w*x+b-y)**2"\nwrt = "w"\nat = "w=1,b=0,x=2,y=4"',
]
COMMENTED = st.tuples(TEXT, st.sampled_from(GOOD_PROGRAMS)).map(  # a program whose comment is hostile
    lambda t: f'[[problem]]\nprogram = {_string("# " + t[0] + chr(10) + t[1])}\nwrt = "w"\n'
              f'[problem.vary]\nw = [-3, 3]\nx = [1, 3]\nb = [0, 2]\ny = [-2, 2]')
WELL_FORMED_SET = st.builds(_toml, TEXT, st.lists(st.sampled_from(GOOD_PROBLEMS) | COMMENTED, min_size=1, max_size=2),
                            st.just([]))
WELL_FORMED_KEY = st.builds(_toml, TEXT, st.tuples(st.permutations(GOOD_QUESTIONS), st.integers(1, 4)).map(
    lambda t: t[0][:t[1]]), st.just([]))
CELL = st.one_of(st.sampled_from(["ada", "1", "", "=HYPERLINK(\"x\")", "@SUM(1)", "-2", "+1"]), FORMULA, TEXT)
ROW = st.one_of(
    st.tuples(st.sampled_from(["ada", "bob", "=cmd|' /C calc'!A0", "<b>eve</b>"]) | TEXT,
              st.sampled_from(["q1", "q2", "q3", "q4"]) | st.sampled_from(QUESTION_IDS),
              st.sampled_from(GOOD_ANSWERS) | FORMULA | TEXT).map(list),
    st.lists(CELL, min_size=0, max_size=5),
)
SUBMISSIONS = st.tuples(
    st.sampled_from(["student,question,answer"] * 4 + ["student,question,answer,variant", "name,q,a", "", "student"]),
    st.lists(ROW, max_size=6),
    st.booleans(),
).map(lambda s: _csv_text(*s))


def _csv_text(header: str, rows, quoted: bool) -> str:
    """Rows written properly quoted by the csv module, or joined raw (broken quotes and all)."""
    import csv
    import io

    if not quoted:
        return "\n".join([header, *(",".join(row) for row in rows)]) + "\n"
    out = io.StringIO()
    out.write(header + "\n")
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


FORMATS = st.sampled_from(["md", "typ", "txt", "tex"] * 10 + ["pdf"])
FILE_RUN = st.one_of(
    st.tuples(st.just("handout"), PROBLEM_SET, FORMATS, st.sampled_from([1, 1, 2, 5]), st.booleans()),
    st.tuples(st.just("handout"), WELL_FORMED_SET, FORMATS, st.sampled_from([1, 2, 3]), st.booleans()),
    st.tuples(st.just("grade"), KEY, SUBMISSIONS, st.booleans(), st.booleans()),
    st.tuples(st.just("grade"), WELL_FORMED_KEY, SUBMISSIONS, st.booleans(), st.booleans()),
)
MARKUP = {  # what user text would look like had it become code in each format
    "md": re.compile(r"(?<!\\)<(script|img)|(?<!\\)\]\(javascript:"),
    "typ": re.compile(r'#panic\("owned"\)|#raw\(read\("'),
    "tex": re.compile(r"(?<!textbackslash\{\})\\(errmessage|input)\{"),
}
FENCED = re.compile(r"^(`{3,})[^\n]*\n.*?^\1[ \t]*$", re.M | re.S)


def _check_written(directory, fmt: str) -> None:
    """Nothing in a written file is user text in a code position, or a control character."""
    for path in directory.rglob("*"):
        if path.suffix in (".pdf",) or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        assert all(ch.isprintable() or ch in "\n\t" for ch in text), (path.name, [c for c in text if not c.isprintable()][:3])
        pattern = MARKUP.get(path.suffix.lstrip("."))
        if pattern is not None:
            shown = FENCED.sub("", text) if path.suffix == ".md" else text
            assert not pattern.search(shown), (path.name, pattern.search(shown).group(0))
        if path.suffix == ".csv":
            import csv

            rows = list(csv.reader(text.splitlines()))
            assert len({len(r) for r in rows}) == 1, path.name  # one shape: no phantom rows
            for row in rows[1:]:
                for cell in row:
                    assert cell[:1] not in ("=", "+", "-", "@") or cell.lstrip("+-").replace(".", "", 1).isdigit(), cell


_RUNS = iter(range(10**9))


@fuzz(FILE_CASES)
@given(FILE_RUN)
def test_no_problem_set_key_or_submissions_reach_an_internal_error(cli_runner, run):
    import shutil

    work = cli_runner.tmp / f"run{next(_RUNS)}"
    (work / "sub").mkdir(parents=True)
    (work / "fuzz.ws").write_text("param w = 1\ndata x = 2\nL = (w*x - 1)**2\n")
    kind, toml, third, fourth, fifth = run
    (work / "in.toml").write_text(toml, encoding="utf-8", errors="surrogatepass")
    out = work / "out"
    if kind == "handout":
        arguments = ["handout", str(work / "in.toml"), "-o", str(out), "-f", third, "-n", str(fourth),
                     *(["--key"] if fifth else [])]
    else:
        (work / "subs.csv").write_text(third, encoding="utf-8", errors="surrogatepass")
        out.mkdir()
        arguments = ["grade", str(work / "in.toml"), str(work / "subs.csv"),
                     *(["-o", str(out / "report.csv")] if fourth else []),
                     *(["--totals", str(out / "totals.csv")] if fifth else [])]
    with CpuTime() as took:
        result = cli_runner(*arguments)
    event(f"{kind} exit {result.code}")
    if result.code == 2:
        event(f"{kind}: " + re.sub(r"[0-9]+", "N", result.err.split("in.toml", 1)[-1])[:90])
    assert result.code in (0, 1, 2), (arguments, toml, result.code, result.err)
    assert "internal error" not in result.err and "Traceback" not in result.err, (toml, result.err)
    if result.code == 2:
        assert result.err.count("\n") == 1, (toml, result.err)
        assert not out.exists() or not any(out.iterdir()), (toml, list(out.iterdir()))  # nothing or the whole set
    elif kind == "handout":
        assert (out / "manifest.json").is_file(), (toml, result.err)
    assert took.seconds < SECONDS, (toml, took.seconds)
    if out.exists():
        _check_written(out, third)
    if kind == "grade" and result.code != 2 and not fourth:
        (out / "stdout.csv").write_text(result.out)
        _check_written(out, "csv")
    shutil.rmtree(work)
