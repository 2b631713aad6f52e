"""``vidsearch user``, ``event``, ``history``, ``recommend`` and ``continue`` through the command
line, on SQLite and PostgreSQL: tokens shown once, bad events refused whole with one line and
exit code 2, the recommendations' JSON shape and reasons, continue watching."""

from __future__ import annotations

import pytest

from core.settings import Settings
from tests.catalog_helpers import add_ready_video


@pytest.fixture
def settings(catalog: Settings) -> Settings:
    """The `cli` fixture runs against this test's catalog: SQLite, then PostgreSQL."""
    return catalog


def _library(settings: Settings) -> dict[str, str]:
    """Four ready videos of 6 s and one still being indexed."""
    v = {n: add_ready_video(settings, f"{n}.mp4", ["a", "b"], seed=i) for i, n in enumerate("abcd")}
    v["pending"] = add_ready_video(settings, "pending.mp4", ["a"], seed=9, status="processing")
    return v


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_user_add_prints_its_token_once_and_list_never_shows_it(cli, capsys):
    code, out = cli("user", "add", "ana")
    assert code == 0
    token = out[-1]
    assert token.startswith("vsu_") and sum(token in line for line in out) == 1
    code, out = cli("user", "add", "boss", "--admin", "--json")
    assert code == 0 and out[0]["role"] == "admin" and out[0]["token"].startswith("vsu_")
    for args in (("user", "list"), ("user", "list", "--json")):
        code, out = cli(*args)
        assert code == 0 and "vsu_" not in repr(out)
    assert [(u["name"], u["has_token"]) for u in out[0]["users"]] == [("ana", True), ("boss", True)]
    code, out = cli("user", "token", "ana")
    assert code == 0 and out[-1].startswith("vsu_") and out[-1] != token
    code, _ = cli("user", "add", "ana")
    assert code == 2 and "already exists" in _one_line(capsys.readouterr().err)
    code, _ = cli("user", "token", "nobody")
    assert code == 2 and "no user called 'nobody'" in _one_line(capsys.readouterr().err)


def test_no_users_yet_says_how_to_add_one(cli):
    assert cli("user", "list") == (0, ["no users yet: vidsearch user add NAME"])


@pytest.mark.parametrize(
    ("video", "kind", "position", "says"),
    [
        ("unknown", "watched", None, "does not exist"),
        ("a", "rewound", None, "event kind 'rewound' is not one of"),
        ("a", "watched", "-1", "must be 0 or more seconds"),
        ("a", "progress", "6.5", "past the end"),  # 6 s long
        ("a", "progress", "nan", "must be 0 or more seconds"),
        ("a", "progress", "soon", "position 'soon' is not a number"),
        ("a", "progress", None, "needs a position"),
        ("pending", "watched", None, "not ready"),
    ],
)
def test_a_bad_event_exits_2_with_one_line_and_changes_nothing(
    cli, settings, capsys, video, kind, position, says
):
    v = _library(settings)
    video_id = v.get(video, "0000000000000000")
    args = ["event", "--user", "ana", "--create", "--video", video_id, "--kind", kind]
    if position is not None:
        args += ["--position", position]
    code, out = cli(*args)
    assert code == 2 and out == []
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("vidsearch event: ") and says in line
    assert cli("user", "list", "--json") == (0, [{"users": []}])  # not even the user it named


def test_an_event_sent_again_with_its_client_id_is_stored_once(cli, settings):
    v = _library(settings)
    args = ("event", "--user", "ana", "--create", "--video", v["a"], "--kind", "watched", "--json")
    code, [first] = cli(*args, "--client-event-id", "tv-1")
    assert code == 0 and first["created"] and first["kind"] == "started"
    code, [again] = cli(*args, "--client-event-id", "tv-1")
    assert code == 0 and not again["created"] and again["event_id"] == first["event_id"]
    code, out = cli("event", "--user", "ana", "--video", v["b"], "--kind", "liked")
    assert code == 0 and out == [f"recorded liked of b.mp4 ({v['b']})"]
    code, [history] = cli("history", "--user", "ana", "--json")
    assert [(e["kind"], e["video_id"]) for e in history["events"]] == [
        ("liked", v["b"]),
        ("started", v["a"]),
    ]


def test_recommend_answers_the_contracts_json_and_a_new_user_gets_popular_videos(cli, settings):
    v = _library(settings)
    for n in range(3):
        made = cli(
            "event", "--user", f"fan{n}", "--create", "--video", v["c"], "--kind", "completed"
        )
        assert made[0] == 0
    assert cli("user", "add", "newcomer")[0] == 0
    code, [body] = cli("recommend", "--user", "newcomer", "--limit", "3", "--json")
    assert code == 0 and set(body) >= {"results"} and len(body["results"]) == 3
    for r in body["results"]:
        assert {"video_id", "path", "title", "score", "reason"} <= set(r)
        assert isinstance(r["score"], float) and r["reason"]
    top = body["results"][0]
    assert (top["video_id"], top["path"], top["title"]) == (v["c"], "/videos/c.mp4", "c.mp4")
    assert top["reason"] == "popular in your library"
    code, out = cli("recommend", "--user", "newcomer", "--limit", "1")
    assert code == 0 and out[0].endswith(f"c.mp4  ({v['c']})  popular in your library")


def test_seen_videos_are_never_recommended(cli, settings):
    v = _library(settings)
    for name, kind in [("a", "completed"), ("b", "disliked"), ("c", "watched")]:
        cli("event", "--user", "ana", "--create", "--video", v[name], "--kind", kind)
    code, [body] = cli("recommend", "--user", "ana", "--json")
    assert code == 0 and [r["video_id"] for r in body["results"]] == [v["d"]]
    cli("event", "--user", "ana", "--video", v["d"], "--kind", "skipped")
    assert cli("recommend", "--user", "ana", "--json") == (0, [{"results": []}])
    code, out = cli("recommend", "--user", "ana")
    assert code == 0 and out[0].startswith("nothing to recommend")


def test_continue_lists_a_started_video_with_its_position(cli, settings):
    v = _library(settings)
    cli("event", "--user", "ana", "--create", "--video", v["b"], "--kind", "watched")
    cli("event", "--user", "ana", "--video", v["b"], "--kind", "progress", "--position", "4")
    cli("event", "--user", "ana", "--video", v["a"], "--kind", "completed")
    code, [body] = cli("continue", "--user", "ana", "--json")
    assert code == 0
    [row] = body["results"]
    assert (row["video_id"], row["position"], row["duration"]) == (v["b"], 4.0, 6.0)
    code, out = cli("continue", "--user", "ana")
    assert code == 0 and out == [f"    0:04 / 0:06     b.mp4  ({v['b']})  /videos/b.mp4"]
    assert cli("user", "add", "bob")[0] == 0
    assert cli("continue", "--user", "bob") == (
        0,
        ["nothing to continue: no video started and left unfinished"],
    )


@pytest.mark.parametrize("limit", ["0", "100000", "ten"])
def test_a_bad_limit_exits_2_and_creates_nobody(cli, capsys, limit):
    for command in ("recommend", "continue", "history"):
        code, _ = cli(command, "--user", "ana", "--limit", limit)
        assert code == 2 and "limit" in _one_line(capsys.readouterr().err)
    assert cli("user", "list", "--json") == (0, [{"users": []}])


def test_a_name_nobody_has_is_an_error_unless_the_event_says_create(cli, settings, capsys):
    """A typo in --user must not quietly make a new profile (one the web UI would then list)."""
    v = _library(settings)
    for command in (
        ("event", "--user", "ghost", "--video", v["a"], "--kind", "liked"),
        ("history", "--user", "ghost"),
        ("recommend", "--user", "ghost"),
        ("continue", "--user", "ghost"),
    ):
        code, out = cli(*command)
        line = _one_line(capsys.readouterr().err)
        assert code == 2 and out == [], command
        assert "no user called 'ghost'" in line and "--create" in line, line
    assert cli("user", "list", "--json") == (0, [{"users": []}])
    made = cli("event", "--user", "ghost", "--create", "--video", v["a"], "--kind", "liked")
    assert made[0] == 0
    assert [u["name"] for u in cli("user", "list", "--json")[1][0]["users"]] == ["ghost"]
