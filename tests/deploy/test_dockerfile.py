"""deploy/Dockerfile, read as text (no Docker here): pinned like pyproject.toml, multi-stage,
tagged base images, and a non-root user at the end."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;]+)$")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = [line.strip().split(maxsplit=1) for line in joined.splitlines() if line.strip()]
    return [(pair[0].upper(), pair[1] if len(pair) > 1 else "") for pair in pairs]


def _arg_defaults() -> dict[str, str]:
    args = [rest for name, rest in _instructions() if name == "ARG" and "=" in rest]
    return dict(arg.split("=", 1) for arg in args)


def _expand(text: str) -> str:
    defaults = _arg_defaults()
    return re.sub(r"\$\{(\w+)\}", lambda m: defaults.get(m.group(1), m.group(0)), text)


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [
        dep for extra in project["optional-dependencies"].values() for dep in extra
    ]
    matches = (PIN.match(requirement) for requirement in requirements)
    return {m.group(1).lower(): m.group(2) for m in matches if m}


def _base_images() -> list[str]:
    return [_expand(rest.split()[0]) for name, rest in _instructions() if name == "FROM"]


def test_torch_is_pinned_like_pyproject() -> None:
    assert _arg_defaults()["TORCH_VERSION"] == _pyproject_pins()["torch"]
    assert any('"torch==${TORCH_VERSION}"' in rest for name, rest in _instructions())


def test_every_literal_pin_matches_pyproject() -> None:
    pins = _pyproject_pins()
    runs = " ".join(rest for name, rest in _instructions() if name == "RUN")
    found = re.findall(r"([A-Za-z0-9_.\-]+)==([0-9][^\s\"']*)", runs)
    assert all(pins.get(package.lower()) == version for package, version in found), found


def test_the_project_installs_from_pyproject() -> None:
    runs = [rest for name, rest in _instructions() if name == "RUN"]
    assert any(re.search(r"pip install \"\.(\[[\w,]+\])?\"", run) for run in runs)


def test_the_image_is_multi_stage() -> None:
    assert len(_base_images()) >= 2
    assert any(name == "COPY" and rest.startswith("--from=") for name, rest in _instructions())


def test_base_images_are_tagged_and_not_latest() -> None:
    froms = [rest.split() for name, rest in _instructions() if name == "FROM"]
    stages = {words[-1] for words in froms if len(words) == 3 and words[1].upper() == "AS"}
    for image in (image for image in _base_images() if image not in stages):
        _, _, tag = image.rsplit("/", 1)[-1].partition(":")
        assert tag, f"{image} has no tag"
        assert tag != "latest", image


def test_the_python_of_the_image_is_the_one_pyproject_requires() -> None:
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minor = re.search(r">=(\d+\.\d+)", requires).group(1)
    assert all(re.search(rf":{re.escape(minor)}\b", image) for image in _base_images())


def test_the_final_user_is_not_root() -> None:
    users = [rest.split(":")[0] for name, rest in _instructions() if name == "USER"]
    assert users, "no USER instruction: the image would run as root"
    assert users[-1] not in {"root", "0"}
