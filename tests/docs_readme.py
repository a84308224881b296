#!/usr/bin/python3
"""docs_readme.py SOURCE_DIR GPPSIM -- README.md cannot drift from the code.

Code blocks: every fenced block of README.md must have a handler, or the
test fails.  A `sh` block's commands run one by one from a scratch folder,
with `build/gppsim` replaced by GPPSIM and /tmp/ by a temporary folder,
TIMEOUT seconds each; each must exit 0 and write the files its --out and
--trace name.  A command the runner does not know (another program, shell
syntax such as pipes or redirections) fails.  EXEMPT lists the commands
that cannot run inside a test, with the reason and the check that runs
instead.  A block without a language is a diagram: every path and glob it
names must exist (DIAGRAM_SECTIONS says where one may stand).  A command
in inline code, `gppsim SUB ...`, must be one whose --help exists and
names its sub-command words and --options.

Figures: every number in the prose (a word outside code blocks, inline
code and link targets that starts with a digit) must be claimed by an
entry of FIGURES, whose check compares it with a run of GPPSIM, a file of
the tree, or the record bench/bench_demo.sh wrote
(bench/results/readme-figures.txt: the README's times are those measured
there, never promised).  A number no entry claims, an entry that no longer
matches the README, or a figure its check disagrees with fails the test.
Prints README.md:LINE: ... for each problem; exit 1 if any."""
import csv
import glob
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(sys.argv[1])
GPPSIM = os.path.abspath(sys.argv[2])
RECORD = "bench/results/readme-figures.txt"
TIMEOUT = 60          # seconds per README command (the tour's take ~1 s)
# The main job, the demo: 10-70 s in Release on a 2-core machine at load
# 1-9, 3.5 min of the whole test under ASan+UBSan.
DEMO_TIMEOUT = 300
SCRATCH = tempfile.mkdtemp(prefix="gppsim-docs.")
# The commands of "The two commands" install packages and build (run) or
# run the whole suite, this test included (test): running them here would
# recurse.  check_setup runs what it can instead: bash -n on the scripts,
# .ci/run calls exactly `setup.sh test`, the modes the script accepts are
# these two, and setup.sh's main-job line (the demo) itself.
EXEMPT = {
    "bash .ci/setup.sh run": "installs packages and rebuilds; its main "
                             "job (the demo) runs instead",
    "bash .ci/setup.sh test": "runs the whole suite, which holds this test",
}
DIAGRAM_SECTIONS = ("What it does",)
problems = []
# What a failed check raises (a run's output that is not what it should be
# included), reported as a problem rather than a traceback.
FAILURES = (AssertionError, KeyError, OSError, ValueError, StopIteration)


def problem(line, msg):
    problems.append("README.md:%d: %s" % (line, msg))


# ---------------------------------------------------------------- running

def run(args, timeout=TIMEOUT, cwd=SCRATCH):
    """(exit status, stdout, stderr) of ARGS; status None on a timeout."""
    try:
        p = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %d s" % timeout
    return p.returncode, p.stdout, p.stderr


def gppsim_json(*args):
    rc, out, err = run([GPPSIM] + list(args) + ["--json"])
    if rc != 0:
        raise AssertionError("gppsim %s: exit %s: %s"
                             % (" ".join(args), rc, err.strip()[-300:]))
    return json.loads(out)


def scratch(name, text):
    path = os.path.join(SCRATCH, name)
    with open(path, "w") as f:
        f.write(text)
    return path


class Runs:
    """The runs the figures are checked against, each made once."""
    cache = {}

    @classmethod
    def get(cls, name):
        """The run NAME's result; a run that failed raises its error again
        rather than running twice."""
        if name not in cls.cache:
            try:
                cls.cache[name] = getattr(cls, name)()
            except FAILURES as e:
                cls.cache[name] = e
        if isinstance(cls.cache[name], Exception):
            raise cls.cache[name]
        return cls.cache[name]

    @staticmethod
    def demo():
        """setup.sh's main job, run as setup.sh runs it, with --json."""
        job = re.search(r'^\s*exec "\$build/gppsim" (demo.*)$',
                        read(".ci/setup.sh"), re.M)
        assert job, ".ci/setup.sh has no 'exec \"$build/gppsim\" demo' line"
        args = shlex.split(job.group(1).replace("$build", SCRATCH))
        rc, out, err = run([GPPSIM] + args + ["--json"], DEMO_TIMEOUT)
        assert rc == 0, "the main job (%s) exited %s: %s" % (
            job.group(1), rc, err.strip()[-300:])
        doc = json.loads(out)
        doc["rows"] = {r["planner"]: r for r in doc["planners"]}
        return doc

    @staticmethod
    def record():
        rec = {}
        for line in read(RECORD).splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition(":")
                rec[key.strip()] = value.strip()
        return rec

    @staticmethod
    def schedules():
        """The schedule names a plan may give (an unknown one lists them)."""
        plan = read("configs/experiments/validation/synthetic-1f1b-4.yaml")
        bad = scratch("schedule.yaml",
                      re.sub(r"schedule: \S+", "schedule: nosuch", plan))
        rc, _, err = run([GPPSIM, "simulate", "--plan", bad, "--cluster",
                          "summit"])
        m = re.search(r"unknown value 'nosuch'; valid: (.*)", err)
        assert rc == 2 and m, "no list of schedules: %s" % err.strip()
        return m.group(1).split(", ")


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


# ------------------------------------------------------------ code blocks

def blocks(lines):
    """(section, language, first line, body lines) of each fenced block."""
    section, start, lang, body = "", None, None, []
    for n, line in enumerate(lines, 1):
        if start is None and line.startswith("## "):
            section = line[3:].strip()
        elif line.startswith("```") and start is None:
            start, lang, body = n, line[3:].strip(), []
        elif line.startswith("```"):
            yield section, lang, start, body
            start = None
        elif start is not None:
            body.append((n, line))
    if start is not None:
        problem(start, "code block never closed")


def commands(body):
    """(line, words) of each command: continuations joined, comments cut."""
    out, text, first = [], "", None
    for n, line in body:
        first = first or n
        text += line[:-1] + " " if line.endswith("\\") else line
        if line.endswith("\\"):
            continue
        words = shlex.split(text, comments=True)
        if words:
            out.append((first, words))
        text, first = "", None
    return out


def check_setup(line, words):
    """What can be checked of `bash .ci/setup.sh MODE` without running it."""
    mode = words[-1]
    for script in [".ci/setup.sh"] + [".ci/run"] * (mode == "test"):
        rc, _, err = run(["bash", "-n", os.path.join(ROOT, script)])
        if rc != 0:
            problem(line, "bash -n %s: %s" % (script, err.strip()))
    calls = [l.strip() for l in read(".ci/run").splitlines()
             if l.strip() and not l.lstrip().startswith("#")]
    if mode == "test" and calls[-1] != "bash .ci/setup.sh test":
        problem(line, ".ci/run ends with '%s', not 'bash .ci/setup.sh test'"
                % calls[-1])
    m = re.search(r'case "\$mode" in\s+([\w|]+)\) ;;', read(".ci/setup.sh"))
    modes = m.group(1).split("|") if m else []
    if sorted(modes) != ["run", "test"] or mode not in modes:
        problem(line, "setup.sh accepts %s, the README shows '%s'"
                % (modes, mode))
    rc, _, err = run(["bash", os.path.join(ROOT, ".ci/setup.sh"), "nosuch"])
    if rc != 2 or "expected run or test" not in err:
        problem(line, "setup.sh nosuch: exit %s: %s" % (rc, err.strip()))
    if mode == "run":
        try:
            Runs.get("demo")
        except FAILURES as e:
            problem(line, "the main job: %s" % e)


def resolve(words, env):
    """WORDS with variables expanded, build/gppsim as GPPSIM and /tmp/ as
    the scratch folder; None for a command the runner cannot run."""
    words = [re.sub(r"\$(\w+)|\$\{(\w+)\}",
                    lambda m: env.get(m.group(1) or m.group(2), m.group(0)),
                    w) for w in words]
    if words[0] not in ("build/gppsim", "./build/gppsim", "gppsim"):
        return None
    if any(w in ("|", "||", "&&", ";", "&") or w[:1] in ("<", ">") or "$" in w
           for w in words):
        return None
    return [GPPSIM] + [SCRATCH + "/" + w[5:] if w.startswith("/tmp/") else w
                       for w in words[1:]]


def run_sh(body):
    env = {}
    for line, words in commands(body):
        text = " ".join(words)
        if text in EXEMPT:
            print("README.md:%d: not run: `%s`: %s" % (line, text,
                                                      EXEMPT[text]))
            check_setup(line, words)
            continue
        if len(words) == 1 and re.match(r"\w+=\S+$", words[0]):
            key, _, value = words[0].partition("=")
            env[key] = value
            continue
        args = resolve(words, env)
        if args is None:
            problem(line, "`%s`: docs_readme.py does not know how to run "
                    "this command (add it to the runner or EXEMPT)" % text)
            continue
        run_one(line, text, args)


def run_one(line, text, args):
    rc, _, err = run(args)
    if rc != 0:
        problem(line, "`%s` exited %s: %s" % (text, rc, err.strip()[-400:]))
        return
    for opt, path in zip(args, args[1:]):
        if opt in ("--out", "--trace") and not (
                os.path.isfile(path) and os.path.getsize(path) > 0 or
                os.path.isdir(path) and os.listdir(path)):
            problem(line, "`%s` wrote no %s %s" % (text, opt, path))


def check_diagram(body):
    for n, line in body:
        for path in re.findall(r"[\w.-]+(?:/[\w.*{},-]+)+", line):
            if not glob.glob(os.path.join(ROOT, path)):
                problem(n, "the diagram names %s, which matches no file"
                        % path)


def check_inline(lines):
    """A `gppsim SUB ...` in the prose names a command whose --help exists
    and mentions its first argument (each of a|b: a further sub-command or
    the usage's placeholder) and every --option shown."""
    text, where = prose(lines)
    for m in re.finditer(r"`gppsim ([a-z-]+)((?: [^`]*)?)`", text):
        words = m.group(2).split()
        first = words[0].split("|") if words else []
        subs = [[m.group(1)]]
        if words and re.fullmatch(r"[a-z-]+(\|[a-z-]+)*", words[0]):
            subs = [[m.group(1), a] for a in first]
        opts = [w.strip("[]") for w in words if w.strip("[]")[:2] == "--"]
        for sub in subs:
            help_mentions(where[m.start()], m.group()[1:-1], sub,
                          first + opts)


def help_mentions(line, shown, sub, wanted):
    rc, out, _ = run([GPPSIM] + sub + ["--help"])
    missing = [w for w in wanted if not re.search(
        r"(?<![\w-])%s(?![\w-])" % re.escape(w), out)]
    if rc != 0 or missing:
        problem(line, "`%s`: gppsim %s --help %s" % (
            shown, " ".join(sub), "exits %s" % rc if rc
            else "does not mention %s" % ", ".join(missing)))


def check_blocks(lines):
    for section, lang, start, body in blocks(lines):
        if lang == "sh":
            run_sh(body)
        elif lang == "" and section in DIAGRAM_SECTIONS:
            check_diagram(body)
        else:
            problem(start, "a ```%s block in '%s' that docs_readme.py has no "
                    "handler for" % (lang, section))


# ---------------------------------------------------------------- figures

def prose(lines):
    """(text, where): README.md outside fenced blocks, whitespace runs as
    one space (a block as a pilcrow); where[i] is the line of text[i]."""
    text, where, in_block = [], [], False
    for n, line in enumerate(lines, 1):
        if line.startswith("```"):
            in_block = not in_block
            line = "" if in_block else "\u00b6"
        elif in_block:
            continue
        for c in line + " ":
            if c.isspace() and text and text[-1] == " ":
                continue
            text.append(" " if c.isspace() else c)
            where.append(n)
    return "".join(text), where


def numbers(text):
    """(offset, word) of each number in TEXT outside inline code and link
    targets: a word whose first character (after an opening bracket or
    quote, and a sign, ~ or currency) is a digit."""
    hidden = [m.span() for m in re.finditer(r"`[^`]*`|\]\([^)]*\)", text)]
    for m in re.finditer(r"\S+", text):
        lead = len(m.group()) - len(m.group().lstrip("([{\"'"))
        start = m.start() + lead
        if re.match(r"[-+~$]?\d", text[start:]) and \
                not any(a <= start < b for a, b in hidden):
            yield start, m.group()[lead:].rstrip(".,;:)]}\"'")


def rounded(value, stated):
    """VALUE printed with as many decimals as the string STATED has."""
    decimals = len(stated.split(".")[1]) if "." in stated else 0
    return "%.*f" % (decimals, value)


def same(stated, value, what, source="the run"):
    got = rounded(value, stated)
    assert stated == got, "%s: %s stated, %s from %s (%r)" % (
        what, stated, got, source, value)


# The checks: each gets the match's groups and raises AssertionError.

def fig_debian(version):
    assert re.match(r"# Debian %s packages" % version,
                    read(".ci/packages.txt")), ".ci/packages.txt is not " \
        "for Debian %s" % version


def fig_fuzz_seconds(seconds):
    m = re.search(r"set\(GPP_FUZZ_SECONDS (\d+) CACHE",
                  read("tests/fuzz/CMakeLists.txt"))
    assert m and m.group(1) == seconds, "tests/fuzz/CMakeLists.txt's " \
        "GPP_FUZZ_SECONDS is %s" % (m and m.group(1))


def fig_demo_gpus(gpus):
    d = Runs.get("demo")
    assert (d["model"], d["cluster"]) == ("mmt", "summit"), d["model"]
    assert d["gpus"] == int(gpus), "the demo uses %d GPUs" % d["gpus"]


def fig_demo_piper(stages, within):
    rows = Runs.get("demo")["rows"]
    q, p = rows["piper"], rows["pipedream"]
    assert q["found"] and q["stages"] == int(stages), \
        "Piper's plan has %d stages" % q["stages"]
    gap = abs(q["samples_per_s"] / p["samples_per_s"] - 1) * 100
    assert rounded(math.ceil(gap * 10) / 10, within) == within, \
        "Piper is within %.3f%% of PipeDream, %s%% stated" % (gap, within)


def fig_demo_memory(gib):
    d = Runs.get("demo")
    assert d["gpu"].startswith("v100"), d["gpu"]
    same(gib, d["device_memory_bytes"] / 2**30, "V100 memory (GiB)")


def fig_demo_rates(g, ratio, p, q):
    rows = Runs.get("demo")["rows"]
    rate = {k: rows[k]["samples_per_s"] for k in rows}
    same(g, rate["graphpipe"], "GraphPipe samples/s")
    same(ratio, rate["graphpipe"] / rate["pipedream"], "speed-up")
    same(p, rate["pipedream"], "PipeDream samples/s")
    same(q, rate["piper"], "Piper samples/s")


def fig_demo_times(date, wall, cores, load, cpu, piper):
    rec = Runs.get("record")
    assert rec["build"] == "Release", "%s: a %s build" % (RECORD, rec["build"])
    for stated, key in ((date, "date"), (cores, "cpus")):
        assert stated == rec[key], "%s: %s stated, %s recorded in %s" % (
            key, stated, rec[key], RECORD)
    for stated, key in ((wall, "demo_wall_s"), (load, "demo_load"),
                        (cpu, "demo_cpu_s"), (piper, "demo_piper_search_s")):
        same(stated, float(rec[key]), key, RECORD)


def fig_reproduce_time(minutes, seconds, cores, load, date):
    rec = Runs.get("record")
    wall = round(float(rec["reproduce_all_wall_s"]))
    assert (int(minutes), int(seconds)) == divmod(wall, 60), \
        "reproduce all: %s min %s s stated, %d s recorded in %s" % (
            minutes, seconds, wall, RECORD)
    assert (cores, date) == (rec["cpus"], rec["date"]), \
        "cores/date: %s, %s stated; %s recorded" % (cores, date, RECORD)
    same(load, float(rec["reproduce_all_load"]), "reproduce_all_load",
         RECORD)


def fig_mmt_params(params):
    got = gppsim_json("model", "show", "mmt")["param_count"]
    assert params == "{:,}".format(int(got)), \
        "mmt.yaml has {:,} parameters".format(int(got))


def fig_mmt_8gpus(gpus, rate):
    plan = os.path.join(SCRATCH, "mmt-%s.yaml" % gpus)
    rc, _, err = run([GPPSIM, "plan", "--model", "mmt", "--cluster", "summit",
                      "--gpus", gpus, "--batch", "128", "--out", plan])
    assert rc == 0, "plan: exit %s: %s" % (rc, err.strip())
    sim = gppsim_json("simulate", "--plan", plan, "--cluster", "summit")
    same(rate, sim["samples_per_s"], "GraphPipe on %s Summit GPUs" % gpus)


def fig_summit_node(gpus):
    text = read("configs/clusters/summit.yaml")
    assert re.search(r"^gpus_per_node: %s$" % gpus, text, re.M) and \
        re.search(r"^gpu: v100", text, re.M), "summit.yaml's node is not " \
        "%s V100s" % gpus


def fig_schedule(_one):
    names = Runs.get("schedules")
    for want in ("gpipe", "1f1b", "interleaved", "gpp"):
        assert want in names, "no schedule '%s' (valid: %s)" % (want, names)


def fig_kernels(percent):
    for f in glob.glob(os.path.join(ROOT, "validate/published/kernels/"
                                    "*.heldback.csv")):
        d = gppsim_json("validate", "kernels", f)
        assert d["median_abs_error"] <= int(percent) / 100, \
            "%s: median |error| %.1f%%" % (f, 100 * d["median_abs_error"])


def fig_validation_plans(count):
    got = len(glob.glob(os.path.join(ROOT, "configs/experiments/validation/"
                                     "*.yaml")))
    assert got == int(count), "configs/experiments/validation has %d" % got


def fig_published(runs, lo, hi):
    table = os.path.join(ROOT, "validate/published/mpt-a100.csv")
    got = len(gppsim_json("validate", "published", table)["rows"])
    assert got == int(runs), "validate published predicts %d runs" % got
    with open(table) as f:
        gpus = [int(r["gpus"]) for r in
                csv.DictReader(l for l in f if not l.startswith("#"))]
    assert (min(gpus), max(gpus)) == (int(lo), int(hi)), \
        "the table's runs use %d-%d GPUs" % (min(gpus), max(gpus))


def fig_exit_status(bad, internal, noplan):
    model = scratch("bad-model.yaml", "name: x\ngraph: [\n")
    rc, _, err = run([GPPSIM, "model", "show", model])
    assert str(rc) == bad and re.search(r"bad-model\.yaml:\d+:\d+: ", err), \
        "bad input: exit %s: %s" % (rc, err.strip())
    model = scratch("bigemb.yaml", "name: bigemb\ngraph:\n"
                    "  - {input: ids, width: 10}\n"
                    "  - {embedding_bag: emb, rows: 20M, dim: 64, bag: 10}\n"
                    "  - {linear: out, out: 1}\n  - {loss: loss}\n")
    rc, _, err = run([GPPSIM, "plan", "--model", model, "--cluster", "summit",
                      "--gpus", "1", "--batch", "8", "--out", model + ".plan"])
    assert str(rc) == noplan, "no plan: exit %s: %s" % (rc, err.strip())
    _, out, _ = run([GPPSIM, "--help"])
    assert "%s internal failure" % internal in out, "gppsim --help's exit " \
        "statuses do not say %s for an internal failure" % internal


def fig_paper(fig6, table1, fig7, fig9, fig8):
    _, out, _ = run([GPPSIM, "reproduce", "--list"])
    for want in ("Fig. %s and Table %s" % (fig6, table1), "Fig. %s left"
                 % fig7, "Fig. %s right" % fig7, "Fig. %s ablation" % fig9):
        assert want in out, "reproduce --list has no '%s'" % want
    assert "Fig. %s timelines" % fig8 in read("configs/experiments/paper/"
                                              "s75.yaml"), "s75 is not Fig. 8"


def fig_7b(billions, layers, d_model, seq, batch, mfu_h, h100, mfu_a, a100):
    model = scratch("gpt7b.yaml", "name: gpt7b\nprecision: bf16\n"
                    "attention: flash\ngraph:\n  - {decoder: m, layers: %s, "
                    "d_model: %s, heads: 32, vocab: 50304, seq: %s}\n"
                    % (layers, d_model, seq))
    params = gppsim_json("model", "show", model)["param_count"]
    same(billions, params / 1e9, "the decoder's parameters (billions)")
    sweep = scratch("mfu.yaml", "name: mfu\nmodels: [%s]\nclusters: [dgx-h100, "
                    "dgx-a100]\npoints: [{gpus: [%s, %s], batch: %s}]\n"
                    % (model, h100, a100, batch))
    rows = {(r["gpu"][:4], r["gpus"]): r for r in gppsim_json(
        "sweep", sweep, "--out", sweep + ".h5")}
    same(mfu_h, 100 * rows["h100", int(h100)]["mfu"], "MFU on H100s (%)")
    same(mfu_a, 100 * rows["a100", int(a100)]["mfu"], "MFU on A100s (%)")


def fig_mfu_range(lo, hi):
    test = read("tests/cli_sweep.sh")
    assert "0.%s <= r[\"mfu\"] <= 0.%s" % (lo, hi) in test, \
        "tests/cli_sweep.sh does not hold the MFU to %s-%s%%" % (lo, hi)


N = r"([0-9][0-9.,]*)"
# (pattern over the prose, its groups the numbers; the check; what it is)
FIGURES = [
    (r"On a fresh Debian (12) machine", fig_debian, "the supported system"),
    (r"runs each for (\d+) s after replaying", fig_fuzz_seconds,
     "fuzzing time per target"),
    (r"Summit-like cluster at (\d+) GPUs with GraphPipe", fig_demo_gpus,
     "the demo's GPUs"),
    (r"an? (\d+)-stage plan that simulates within %s%% of PipeDream's" % N,
     fig_demo_piper, "Piper's demo plan"),
    (r"against the (\d+) GiB of a V100", fig_demo_memory, "V100 memory"),
    (r"`bench/bench_demo\.sh` measured it on (\d{4}-\d\d-\d\d) \(Release "
     r"build, record in `bench/results/readme-figures\.txt`\): %s s of wall "
     r"time on a (\d+)-core machine at load %s \(%s s of CPU\), %s s of it "
     r"Piper's search" % (N, N, N, N), fig_demo_times, "the demo's times"),
    (r"GraphPipe's plan runs at %s samples/s, %sx PipeDream's %s, and "
     r"Piper's at %s" % (N, N, N, N), fig_demo_rates, "the demo's rates"),
    (r"mmt\.yaml's ([0-9,]+) parameters", fig_mmt_params, "MMT's size"),
    (r"throughput on (\d+) Summit GPUs, %s samples/s" % N, fig_mmt_8gpus,
     "MMT on 8 GPUs"),
    (r"Summit-like \((\d+) x V100", fig_summit_node, "Summit's node"),
    (r"\b(1)F1B\b", fig_schedule, "the 1F1B schedule"),
    (r"median \|error\| at most (\d+)%", fig_kernels, "kernel model error"),
    (r"runs the (\d+) plans of `configs/experiments/validation`",
     fig_validation_plans, "validation plans"),
    (r"bundled: (\d+) MPT runs with FSDP on (\d+)-(\d+) A100s",
     fig_published, "published runs"),
    (r"exits with status (\d+); internal failures exit (\d+); a planner "
     r"that finds no plan exits (\d+)", fig_exit_status, "exit statuses"),
    (r"\(Fig\. (\d+) and Table (\d+), Fig\. (\d+) left and right, Fig\. "
     r"(\d+), the §7\.5 synthetic case with its Fig\. (\d+) timelines",
     fig_paper, "the paper's figures"),
    (r"`gppsim reproduce all` took (\d+) min (\d+) s with its plots on a "
     r"(\d+)-core machine at load %s \(`bench/bench_demo\.sh`, "
     r"(\d{4}-\d\d-\d\d)\)" % N, fig_reproduce_time, "reproduce all's time"),
    (r"A (\d+)B GPT in bf16 \(the `decoder` generator: (\d+) layers, "
     r"d_model (\d+), seq (\d+), flash attention\), batch (\d+), GraphPipe "
     r"plans: %s%% MFU on (\d+) H100s and %s%% on (\d+) A100s" % (N, N),
     fig_7b, "the 7B GPT's MFU"),
    (r"within the (\d+)-(\d+)% published runs", fig_mfu_range,
     "the published MFU range"),
]


def clean(group):
    return group.rstrip(".,")


def check_figures(lines):
    text, where = prose(lines)
    claimed = set()
    for pattern, check, what in FIGURES:
        matches = list(re.finditer(pattern, text))
        if not matches:
            problems.append("docs_readme.py: the figure '%s' (%s) is no "
                            "longer in README.md" % (pattern, what))
        for m in matches:
            claimed.update(m.start(i) for i in range(1, len(m.groups()) + 1))
            try:
                check(*(clean(g) for g in m.groups()))
            except FAILURES as e:
                problem(where[m.start()], "%s: %s" % (what, e))
    for start, word in numbers(text):
        if start not in claimed:
            problem(where[start], "the figure '%s' is not checked: add it to "
                    "FIGURES in tests/docs_readme.py" % word)


def main():
    lines = read("README.md").splitlines()
    check_blocks(lines)
    check_inline(lines)
    check_figures(lines)
    for p in problems:
        print(p)
    subprocess.run(["rm", "-rf", SCRATCH])
    print("docs_readme: %s" % ("%d problem(s)" % len(problems)
                               if problems else "all passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
