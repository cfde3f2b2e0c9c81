"""The documentation keeps its promises: README's test command is the one CI runs, there
is one version, every generated part of the site can be filled, and README stays short
and free of counts and times that nothing regenerates."""
import importlib.util
import re
from importlib import metadata
from pathlib import Path

import pytest

import benchmark
from benchmark.runner import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)


def pyproject_version() -> str:
    match = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), flags=re.M)
    assert match, "pyproject.toml states no static version"
    return match.group(1)


def test_ci_runs_readme_test_command_verbatim():
    install_and_run, test = bash_blocks(README)[:2]
    assert "run_protocol.py" in install_and_run and "\n" not in install_and_run
    assert "pytest" in test and "\n" not in test
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test in ci_lines, f".ci/run does not run README's test command {test!r}"
    assert ci_lines[-1] == test  # the tests are the last step, so their result is CI's result


def test_ci_builds_docs_strictly_from_a_fresh_environment():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "rm -rf .venv" in ci
    assert "'.[test,docs]'" in ci
    assert "ruff check ." in ci
    assert "mkdocs build --strict" in ci


def test_readme_is_short_and_its_links_exist():
    assert len(README.splitlines()) <= 250
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


def test_readme_states_no_counts_or_times():
    # counts and times belong where a command regenerates them (docs built from results/,
    # benchmarks/, CHANGELOG.md), not in README prose
    assert not re.search(r"\b\d[\d,]*\s+tests\b", README)
    assert not re.search(r"\b\d+(\.\d+)?\s*(s|sec|seconds|min|minutes|h|hours)\b", README)


def test_one_version():
    version = pyproject_version()
    assert metadata.version("entanglement-bench") == version, "reinstall: pip install -e ."
    assert benchmark.__version__ == version
    citation = (ROOT / "CITATION.cff").read_text()
    assert re.search(rf'^version: "{re.escape(version)}"$', citation, flags=re.M)
    first_entry = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), flags=re.M)
    assert first_entry and first_entry.group(1) == version


def test_cli_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"run_protocol.py {benchmark.__version__}"


@pytest.fixture(scope="module")
def hook():
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "hooks" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("page", sorted(p.relative_to(ROOT / "docs").as_posix()
                                        for p in (ROOT / "docs").glob("**/*.md")))
def test_every_generated_part_can_be_filled(hook, page):
    text = (ROOT / "docs" / page).read_text()
    filled = hook.fill(text, page)
    assert not hook.MARKER.search(filled)


def test_the_reference_is_generated_from_the_specs(hook):
    import attacks
    from benchmark.runner import BUILTIN_SPECS

    table = hook.fill("{{ table metrics }}")
    for spec in BUILTIN_SPECS:
        assert f"| `{spec.name}` ({spec.display_name}) | {spec.family} | `{spec.headline}` (" in table
    table = hook.fill("{{ table attacks }}")
    assert all(f"| `{spec.name}` |" in table for spec in attacks.SPECS)
    with pytest.raises(hook.GenerateError):
        hook.fill("{{ mean noise no_such_metric last }}")


def test_the_findings_read_the_committed_results(hook):
    import attacks

    assert re.fullmatch(rf"\d+ of {len(attacks.SPECS)}", hook.fill("{{ tally . unibound }}"))
    assert 0.9 < float(hook.fill("{{ mean noise unibound first }}")) <= 1.0
