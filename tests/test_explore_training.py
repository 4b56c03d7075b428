"""The studio's training panel in process (Starlette's TestClient): the form made from the
specification, validation, Origin checks, one training at a time, safe names, [render]-only
saves, and one real training stopped and resumed."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
import warnings

import pytest
from conftest import tiny_four_strokes

warnings.filterwarnings("ignore", message=".*httpx.*")
from starlette.testclient import TestClient  # noqa: E402

from glyphart.explore import training  # noqa: E402
from glyphart.explore.app import create_app  # noqa: E402
from glyphart.explore.form import describe  # noqa: E402
from glyphart.presets import user_dir  # noqa: E402
from glyphart.spec import Spec, TrainSpec, _f, spec_from_dict, spec_to_dict  # noqa: E402

PORT = 8765
BASE = f"http://127.0.0.1:{PORT}"
EVIL = {"origin": "http://evil.example"}


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path / "exports", port=PORT), base_url=BASE) as c:
        yield c


@pytest.fixture
def sleeper(monkeypatch):
    """Trainings that only sleep: the panel's process handling without torch."""
    monkeypatch.setattr(training, "command", lambda toml, sheet, resume: [
        sys.executable, "-c", "import time; time.sleep(60)"])


def brush_values(client, preset: str = "brush") -> dict:
    """The values the page sends back for a preset's form, unchanged."""
    form = client.get(f"/api/train/form?preset={preset}").json()
    values = {"description": form["description"]}
    for group in form["groups"]:
        table = values.setdefault(group["table"], {})
        for f in group.get("fields") or group["tables"]:
            if f["type"] == "table":
                if f["on"]:
                    table[f["key"]] = {g["key"]: g["value"] for g in f["fields"]}
            elif f["value"] is not None and (not f["kinds"] or "strokes" in f["kinds"]):
                table[f["key"]] = f["value"]
    return values


def fields(form: dict, table: str) -> dict:
    group = next(g for g in form["groups"] if g["table"] == table)
    return {f["key"]: f for f in group.get("fields") or group["tables"]}


def test_the_form_is_made_from_the_specification(client):
    form = client.get("/api/train/form?preset=brush").json()
    assert [g["table"] for g in form["groups"]] == ["model", "channel", "train", "render"]
    model = fields(form, "model")
    assert model["segments"] | {"doc": ""} == {
        "key": "segments", "type": "int", "value": 2, "default": 2, "doc": "", "lo": 1,
        "hi": 8, "choices": None, "length": None, "unset": "", "kinds": ["strokes"]}
    assert "Bezier" in model["segments"]["doc"]
    assert model["kernel"]["kinds"] == ["resize", "convtranspose"]  # not for brush: hidden
    assert model["message_size"]["kinds"] is None  # every kind
    assert model["inks"]["value"] is None and model["inks"]["unset"]  # left out for gray
    channel = fields(form, "channel")
    assert channel["noise"]["on"] and not channel["crop"]["on"]
    assert {f["key"] for f in channel["crop"]["fields"]} == {"scale", "ratio", "p"}
    assert form["trained"] and "brush" in form["sources"] and form["origin"] == "built-in"


def test_a_field_added_to_the_specification_appears_in_the_form():
    Extra = dataclasses.make_dataclass("Extra", [("wobble", float, _f(
        0.25, lo=0.0, hi=2.0, doc="how much the brush wobbles", kinds=("strokes",)))],
        bases=(TrainSpec,))
    form = describe(Spec(name="x", train=Extra()))
    wobble = fields(form, "train")["wobble"]
    assert (wobble["doc"], wobble["lo"], wobble["hi"], wobble["value"], wobble["kinds"]) == \
        ("how much the brush wobbles", 0.0, 2.0, 0.25, ["strokes"])


def test_invalid_values_are_refused_with_the_clis_message_and_nothing_is_written(client):
    values = brush_values(client)
    values["model"]["segments"] = 99
    r = client.post("/api/train/start", json={"from": "brush", "name": "mine",
                                              "values": values}, headers={"origin": BASE})
    assert r.status_code == 400
    with pytest.raises(Exception) as cli:
        spec_from_dict(values | {"name": "mine"}, "mine.toml")
    assert r.text.strip() == str(cli.value)
    assert "[model] segments: got 99" in r.text and len(r.text.strip().splitlines()) == 1
    assert not (user_dir() / "mine.toml").exists()


@pytest.mark.parametrize("path", ["/api/train/start", "/api/train/stop"])
def test_a_foreign_origin_is_refused_on_every_training_action(client, path):
    r = client.post(path, json={"from": "brush", "name": "mine", "values": {}}, headers=EVIL)
    assert r.status_code == 403
    assert client.post(path, content="{}", headers={"origin": BASE, "content-type":
                                                    "text/plain"}).status_code == 400
    assert not user_dir().exists() or not list(user_dir().iterdir())


@pytest.mark.parametrize("name", ["../escape", "a/b", "a\x00b", ".hidden", "a..b", "",
                                  "brush", "x" * 65, "two words"])
def test_unsafe_names_and_built_in_names_are_refused(client, name):
    r = client.post("/api/train/start", json={"from": "brush", "name": name,
                                              "values": brush_values(client)})
    assert r.status_code == 400 and "name" in r.text
    assert not user_dir().exists() or not list(user_dir().iterdir())


def test_a_render_only_edit_saves_without_training(client, sleeper):
    values = brush_values(client)
    values["render"]["palette"] = "rose"
    r = client.post("/api/train/start", json={"from": "brush", "name": "rosy", "values": values})
    assert r.json() == {"saved": "rosy"}
    assert client.get("/api/train/status").json() == {"state": "idle"}  # nothing started
    saved = user_dir() / "rosy.toml"
    assert 'palette = "rose"' in saved.read_text() and saved.with_suffix(".safetensors").is_file()
    assert any(p["name"] == "rosy" for p in client.get("/api/presets").json()["presets"])
    assert client.get("/api/tile?preset=rosy&seed=3&size=64").status_code == 200


def test_one_training_at_a_time_and_a_copy_grows_from_its_source(client, sleeper):
    values = brush_values(client)
    values["model"]["strokes"], values["model"]["message_size"] = 5, 80
    r = client.post("/api/train/start", json={"from": "brush", "name": "five", "values": values})
    assert r.json() == {"started": "five"}
    written = spec_to_dict(__import__("glyphart.spec").spec.load_spec(user_dir() / "five.toml"))
    assert written["train"]["init_from"] == "brush" and written["model"]["strokes"] == 5
    assert client.get("/api/train/status").json()["state"] == "training"
    again = client.post("/api/train/start",
                        json={"from": "brush", "name": "six", "values": values})
    assert again.status_code == 400 and "one training at a time" in again.text
    assert not (user_dir() / "six.toml").exists()
    assert client.post("/api/train/stop", json={}).json() == {"stopping": "five"}


def test_a_real_training_is_stopped_with_its_weights_and_resumed(client, tmp_path):
    """The CLI's own training as a child: its live sheet and numbers, a stop that leaves the
    preset's weights (it renders) and a checkpoint, a resume that finishes it."""
    tiny = tmp_path / "tiny.toml"
    tiny.write_text(tiny_four_strokes("exchangeable = true", steps=100000).replace(
        "[train]", "[train]\nvideo_every = 10"))
    user_dir().mkdir(parents=True, exist_ok=True)
    (user_dir() / "seedling.toml").write_text(tiny.read_text())
    values = brush_values(client, "seedling")
    values["channel"]["noise"]["std"] = 0.3  # a change: this trains
    r = client.post("/api/train/start", json={"from": "seedling", "name": "sprout",
                                              "values": values})
    assert r.json() == {"started": "sprout"}, r.text
    status = wait_for(client, lambda s: (s.get("progress") or {}).get("step", 0) >= 20)
    assert status["state"] == "training" and status["sheet"]
    assert client.get("/api/train/sheet").content[:4] == b"\x89PNG"
    client.post("/api/train/stop", json={})
    status = wait_for(client, lambda s: s["state"] not in ("training", "stopping"))
    assert status["state"] == "stopped", status
    assert client.get("/api/tile?preset=sprout&seed=1&size=64").status_code == 200
    assert client.get("/api/train/form?preset=sprout").json()["resumable"]
    step = status["progress"]["step"]
    r = client.post("/api/train/start", json={"name": "sprout", "resume": True})
    assert r.json() == {"started": "sprout", "resume": True}
    wait_for(client, lambda s: (s.get("progress") or {}).get("step", 0) > step)
    client.post("/api/train/stop", json={})
    assert wait_for(client, lambda s: s["state"] not in ("training", "stopping"))["state"] == \
        "stopped"
    record = json.loads((user_dir() / "sprout.json").read_text())
    assert record["resumed_from_step"] == step


def wait_for(client, done, seconds: float = 120.0) -> dict:
    deadline = time.time() + seconds
    while time.time() < deadline:
        status = client.get("/api/train/status").json()
        if done(status):
            return status
        time.sleep(0.2)
    raise AssertionError(f"timed out; last status {status}")


def test_ctrl_c_on_the_studio_stops_its_training_with_a_checkpoint_resume_continues(tmp_path):
    """`glyphart explore` in a terminal: Ctrl-C reaches the studio (the training has a
    session of its own), which stops the training once and waits while it saves; the CLI's
    --resume then continues it."""
    import os
    import signal
    import subprocess
    import urllib.request

    from conftest import run_cli
    from explore_server import free_port
    from glyphart.train import checkpoint_path
    user_dir().mkdir(parents=True, exist_ok=True)
    (user_dir() / "seedling.toml").write_text(
        tiny_four_strokes("exchangeable = true", steps=100000))
    port = free_port()
    studio = subprocess.Popen([sys.executable, "-m", "glyphart", "explore", "--no-open", "-q",
                               "--port", str(port), "--export-dir", str(tmp_path / "out")],
                              env=os.environ, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/api/train/"
    try:
        values = {"model": {"generator": "strokes", "exchangeable": True, "strokes": 4,
                            "segments": 1, "message_size": 16, "size": 16, "widths": [64],
                            "decoder_widths": [8, 16]},
                  "channel": {"noise": {"std": 0.3}}, "train": {"steps": 100000}}
        answer = wait_until(lambda: post_json(url + "start", {
            "from": "seedling", "name": "sprout", "values": values}))
        assert answer == {"started": "sprout"}
        wait_until(lambda: (json.loads(urllib.request.urlopen(url + "status").read())
                            .get("progress") or {}).get("step", 0) >= 10)
        studio.send_signal(signal.SIGINT)
        studio.wait(120)
    finally:
        studio.kill()
    toml = user_dir() / "sprout.toml"
    assert checkpoint_path(toml).is_file() and toml.with_suffix(".safetensors").is_file()
    step = json.loads(toml.with_suffix(".json").read_text())["steps"]
    done = run_cli("train", "sprout", "--resume", "--steps", str(step + 5), "-q",
                   "--eval-messages", "0")
    assert done.returncode == 0, done.stderr
    assert json.loads(toml.with_suffix(".json").read_text())["resumed_from_step"] == step


def post_json(url: str, body: dict) -> dict:
    import urllib.request
    request = urllib.request.Request(url, json.dumps(body).encode(), method="POST",
                                     headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(request).read())


def wait_until(attempt, seconds: float = 120.0):
    """attempt()'s first true answer; a refused connection (the server starting) is no."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            answer = attempt()
            if answer:
                return answer
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")
