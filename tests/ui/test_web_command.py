"""``vidsearch ui`` starts Streamlit on the web UI, leaving Streamlit's own settings in charge
unless --port or --host say otherwise."""

from __future__ import annotations

from ui.cli import build_parser
from ui.cli.web import APP, streamlit_argv


def _argv(*args: str, **environ: str) -> list[str]:
    return streamlit_argv(build_parser().parse_args(["ui", *args]), environ)


def test_it_runs_the_app_headless_without_usage_statistics_or_file_watching():
    argv = _argv()
    assert argv[1:5] == ["-m", "streamlit", "run", str(APP)] and APP.is_file()
    assert argv[argv.index("--server.headless") + 1] == "true"
    assert argv[argv.index("--browser.gatherUsageStats") + 1] == "false"
    assert argv[argv.index("--server.fileWatcherType") + 1] == "none"
    assert "--server.port" not in argv
    # Like `vidsearch api`, it listens on loopback unless told: there nobody needs to sign in.
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    told = _argv(STREAMLIT_SERVER_ADDRESS="0.0.0.0")
    assert "--server.address" not in told  # Streamlit reads the variable itself


def test_streamlit_variables_are_honoured_and_flags_win_over_them():
    env = {"STREAMLIT_SERVER_PORT": "9100", "STREAMLIT_SERVER_HEADLESS": "false"}
    argv = _argv(**env)
    assert "--server.port" not in argv  # Streamlit reads STREAMLIT_SERVER_PORT itself
    assert "--server.headless" not in argv
    argv = _argv("--port", "9200", "--host", "0.0.0.0", **env)
    assert argv[argv.index("--server.port") + 1] == "9200"
    assert argv[argv.index("--server.address") + 1] == "0.0.0.0"


def test_ui_is_a_real_command_now():
    parser = build_parser()
    args = parser.parse_args(["ui", "--port", "8600"])
    assert args.command == "ui" and args.port == 8600 and args.func.__name__ == "cmd_ui"


def test_text_from_files_and_people_is_shown_literally_not_as_markdown():
    from ui.web.components import md, summary_text

    assert md("my_holiday_video.mp4 costs $5 *now*") == r"my\_holiday\_video.mp4 costs \$5 \*now\*"
    assert md("<b>[x](y)</b>") == r"\<b\>\[x\](y)\</b\>"
    assert summary_text("0:00 – a_b\n\n0:05 – c") == "0:00 – a\\_b  \n0:05 – c"
