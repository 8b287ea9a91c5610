"""The documented configuration matches what is read: README table, .env.example, the settings and the scripts."""

import re

from panels.environment import NAMES
from tests import ROOT


def readme_table_names() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.M))


def script_names() -> set[str]:
    """Return the variables the scripts read with a default (`${PORT:-8000}`)."""
    scripts = "".join(path.read_text() for path in (ROOT / "scripts").glob("*.sh"))
    return set(re.findall(r"\$\{([A-Z_]+):-", scripts))


def env_example_names() -> set[str]:
    return set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), flags=re.M))


def test_every_variable_the_settings_and_scripts_read_is_in_the_readme_table():
    assert {"PORT", "SIMULATOR_PORT", "STRIPE_STANDIN_PORT"} <= script_names()
    assert readme_table_names() == set(NAMES) | script_names()


def test_env_example_lists_every_setting_and_nothing_else():
    assert env_example_names() == set(NAMES)


def test_the_readme_gives_the_two_commands_and_they_exist():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```sh\n(bash scripts/\S+)\n```", readme)
    assert commands == ["bash scripts/run.sh", "bash scripts/test.sh"]
    for command in commands:
        assert (ROOT / command.split()[1]).is_file()
