"""Every command, with each broken config, broken input, missing target and unreachable server:
the exit code the README gives, one line saying what is wrong, and never a traceback.

One table drives it all. A "refused" server is a loopback port nobody listens on; a server that
"does not answer" is a listening socket that never accepts, with a short connect_timeout so
that the test is quick.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from cxlist.cli import app
from cxlist.sandbox import Faults, RunningSandbox
from tests.e2e.helpers import sandbox_env, write_contacts

README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class World:
    """A workspace with a reviewed plan and a run with one FAILED row, and the files to use."""

    sandbox: RunningSandbox
    ws: Path
    tmp: Path
    contacts: Path
    plan_id: str
    failed_id: str

    def env(self, **extra: str) -> dict[str, str]:
        """The environment pointing at the sandbox, with ``extra`` on top."""
        return sandbox_env(self.sandbox, **extra)


def cli(env: dict[str, str], *args: str) -> Result:
    """Run cxlist in-process; stdout and stderr kept apart."""
    return CliRunner().invoke(app, list(args), env=env)


def _run_id(result: Result) -> str:
    found = re.search(r"run id:\s+(\S+)", result.stdout)
    assert found, result.output
    return found.group(1)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One sandbox for the module: a plan, and a run whose first row the server refused."""
    from cxlist.sandbox import serve_in_thread

    tmp = tmp_path_factory.mktemp("user-errors")
    contacts = write_contacts(tmp / "contacts.csv", 20)
    with serve_in_thread(seed="demo", faults=Faults(reject_keys=("+12013000000",))) as sb:
        ws = tmp / "ws"
        env = sandbox_env(sb)
        target = ["--campaign", "C-100", "--list", "L-1", "-w", str(ws), "-q"]
        planned = cli(env, "plan", str(contacts), *target)
        assert planned.exit_code == 0, planned.output
        failed = cli(env, "run", str(contacts), *target)
        assert failed.exit_code == 1, failed.output
        yield World(sb, ws, tmp, contacts, _run_id(planned), _run_id(failed))


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder, so that no ./cxlist.toml is read."""
    monkeypatch.chdir(tmp_path)


def _write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


#: Broken configs: TOML text, and what the one line must say.
CONFIGS = {
    "typo in [scoring]": (
        "[scoring]\nbse = 3\n",
        "[scoring] bse: unknown key; did you mean 'base'?",
    ),
    "bad value in [dedupe]": ('[dedupe]\npolicy = "frist"\n', "[dedupe] policy: Input should be"),
    "typo in [[lists]]": (
        '[[lists]]\nid = "L-1"\ncampaign = "C-100"\ndefault = true\nwhn = "score > 1"\n',
        "[[lists]] #1 whn: unknown key; did you mean 'when'?",
    ),
    "unknown section": (
        "[scorng]\nbase = 3\n",
        "[scorng]: unknown section; did you mean [scoring]?",
    ),
    "typo in [upload]": ("[upload]\nconcurency = 2\n", "did you mean 'concurrency'?"),
    "not TOML": ("[scoring\n", "not valid TOML"),
    "a secret in the TOML": ('[cxone]\nclient_secret = "x"\n', "client_secret is a secret"),
    "markup-like text": (
        '[scoring]\nrules = [{ name = "[/b]", when = "score >> 1", add = 1 }]\n',
        "rule scoring.rules '[/b]'",
    ),
}
#: Broken environment: variables, and what the one line must say.
ENVIRONMENTS = {
    "malformed CXONE_BASE_URL": (
        {"CXONE_BASE_URL": "htp://127.0.0.1:1"},
        "CXONE_BASE_URL: [cxone] base_url: not a URL",
    ),
    "malformed CXONE_TOKEN_URL": ({"CXONE_TOKEN_URL": "http//x"}, "CXONE_TOKEN_URL"),
    "unknown CXONE_DIALECT": ({"CXONE_DIALECT": "v3"}, "CXONE_DIALECT: [cxone] dialect"),
}
#: Every command, as arguments after the world is known.
COMMANDS = {
    "plan": lambda w: ["plan", str(w.contacts), "--campaign", "C-100", "--list", "L-1"],
    "run": lambda w: ["run", str(w.contacts), "--campaign", "C-100", "--list", "L-1"],
    "run --plan": lambda w: ["run", "--plan", w.plan_id],
    "resume": lambda w: ["resume", w.failed_id, "--retry-failed"],
    "runs list": lambda w: ["runs", "list"],
    "runs show": lambda w: ["runs", "show", w.plan_id],
}
SENDING = ("plan", "run", "run --plan", "resume")


def assert_one_line(result: Result, code: int, says: str) -> None:
    """Exit ``code``, one ``error:`` line on stderr saying ``says`` (literally), no traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, result.stderr
    assert says in errors[0], errors[0]
    assert result.stdout.strip() == "" or code != 2, result.stdout


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", CONFIGS)
def test_a_broken_config_is_exit_2_with_one_line(world: World, case: str, command: str) -> None:
    """Any config mistake, in any section, stops any command with exit 2 naming the file,
    the section, the key and (for a typo) the closest valid key."""
    text, says = CONFIGS[case]
    config = _write(world.tmp, "broken.toml", text)
    args = COMMANDS[command](world)
    result = cli(world.env(), *args, "-c", str(config), "-w", str(world.ws))
    assert_one_line(result, 2, says)
    assert f"error: {config}: " in result.stderr


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", ENVIRONMENTS)
def test_a_broken_variable_is_exit_2_naming_it(world: World, case: str, command: str) -> None:
    """A malformed URL or dialect in the environment is exit 2 at once, naming the variable."""
    variables, says = ENVIRONMENTS[case]
    args = COMMANDS[command](world)
    result = cli(world.env(**variables), *args, "-w", str(world.ws))
    assert_one_line(result, 2, says)


def _inputs(tmp: Path) -> dict[str, tuple[Path, str]]:
    binary = tmp / "binary.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    corrupt = tmp / "corrupt.xlsx"
    corrupt.write_bytes(b"PK\x03\x04\x14\x00 a workbook cut short")
    mislabelled = _write(tmp, "mislabelled.xlsx", "Phone,Name\n2015550100,Ada\n")
    return {
        "missing file": (tmp / "nowhere.csv", "nowhere.csv: no such file"),
        "binary file": (binary, "binary.csv: a binary file"),
        "corrupt workbook": (corrupt, "corrupt.xlsx: cannot read file"),
        "mislabelled workbook": (mislabelled, "mislabelled.xlsx: cannot read file"),
        "a folder": (tmp, "not a file"),
    }


@pytest.mark.parametrize("command", ["plan", "run"])
@pytest.mark.parametrize(
    "case", ["missing file", "binary file", "corrupt workbook", "mislabelled workbook", "a folder"]
)
def test_unreadable_input_is_exit_3_and_the_run_failed(
    world: World, case: str, command: str
) -> None:
    """A file that cannot be read is exit 3 naming it; a run that was started is FAILED with
    the reason."""
    path, says = _inputs(world.tmp)[case]
    ws = world.tmp / f"ws-{command}-{case.replace(' ', '-')}"
    args = [command, str(path), "--campaign", "C-100", "--list", "L-1", "-w", str(ws), "-q"]
    assert_one_line(cli(world.env(), *args), 3, says)
    listed = cli(world.env(), "runs", "list", "-w", str(ws), "--json")
    for record in json.loads(listed.stdout):
        assert record["status"] == "FAILED"
        assert says.split(": ", 1)[-1] in record["message"]


@pytest.mark.parametrize("command", ["plan", "run"])
@pytest.mark.parametrize(
    ("target", "says"),
    [
        (["--campaign", "C-100", "--list", "L-999"], "list L-999 does not exist"),
        (["--campaign", "C-999", "--list", "L-1"], "campaign C-999 does not exist"),
    ],
)
def test_a_missing_target_is_exit_4_before_anything_is_sent(
    world: World, command: str, target: list[str], says: str
) -> None:
    """A target list or campaign the server lacks is exit 4, naming it; nothing is sent."""
    before = len(world.sandbox.store.items("L-1"))
    args = [command, str(world.contacts), *target, "-w", str(world.ws), "-q"]
    assert_one_line(cli(world.env(), *args), 4, says)
    assert len(world.sandbox.store.items("L-1")) == before


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def silent_url() -> Iterator[str]:
    """A loopback socket that listens but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.parametrize("command", SENDING)
@pytest.mark.parametrize("server", ["refused", "does not answer"])
def test_an_unreachable_server_is_exit_5_naming_the_url(
    world: World, silent_url: str, command: str, server: str
) -> None:
    """A refused connection is exit 5 at once and a silent host exit 5 after connect_timeout;
    the line names the URL."""
    url = f"http://127.0.0.1:{_free_port()}" if server == "refused" else silent_url
    says = "connection refused" if server == "refused" else "did not answer within 0.5 s"
    config = _write(world.tmp, "short.toml", "[cxone]\nconnect_timeout = 0.5\n")
    env = world.env(CXONE_BASE_URL=url, CXONE_TOKEN_URL=f"{url}/as/token.oauth2")
    args = [*COMMANDS[command](world), "-c", str(config), "-w", str(world.ws), "-q"]
    result = cli(env, *args)
    assert_one_line(result, 5, says)
    assert url in result.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["runs", "show", "no-such-run"], "no run 'no-such-run'"),
        (["resume", "no-such-run"], "no run 'no-such-run'"),
        (["run", "--plan", "no-such-run"], "no run 'no-such-run'"),
    ],
)
def test_an_unknown_run_is_exit_6(world: World, args: list[str], says: str) -> None:
    """A run id the workspace does not know is exit 6, naming it."""
    assert_one_line(cli(world.env(), *args, "-w", str(world.ws)), 6, says)


def test_the_exit_codes_are_the_readmes() -> None:
    """The README's exit code list and the CLI's constants are the same, code by code."""
    from cxlist.cli import options

    text = README.read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"`(\d+)` ", text.split("Exit codes:")[1][:900])}
    constants = {
        0,
        options.EXIT_PARTIAL,
        options.EXIT_CONFIG,
        options.EXIT_INPUT,
        options.EXIT_PLAN,
        options.EXIT_API,
        options.EXIT_RUN,
        options.EXIT_INTERRUPTED,
    }
    assert documented == constants == {0, 1, 2, 3, 4, 5, 6, 130}


@pytest.mark.parametrize(
    ("config", "target", "code", "says"),
    [
        ("", [], 4, "no target list: give --campaign and --list, or [[lists]] in the config"),
        (
            '[columns]\nphone_number = "Mobile"\n',
            ["--campaign", "C-100", "--list", "L-1"],
            2,
            "[columns] phone_number = 'Mobile': no such column",
        ),
        ("", ["--campaign", "C-100"], 2, "--campaign and --list go together"),
    ],
)
def test_bracketed_messages_print_as_they_are(
    world: World, config: str, target: list[str], code: int, says: str
) -> None:
    """Messages that hold [[lists]] or [columns] are printed literally, not read as markup."""
    path = _write(world.tmp, "plain.toml", config)
    args = ["plan", str(world.contacts), *target, "-c", str(path), "-w", str(world.ws), "-q"]
    assert_one_line(cli(world.env(), *args), code, says)
