"""Who may see what in the web UI, driven by AppTest against the footage library: with sign-in
required, nobody gets the sign-in form and nothing else; a user gets the library but no admin
page or action; only an admin adds people. The browser test (test_browser.py) signs in for real
through the HttpOnly cookie; here the page's one cookie reader is pointed at a real session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.settings import Settings, get_settings
from services import users, web_sessions
from tests.ui.web.conftest import APP

pytestmark = pytest.mark.real_models
VIEWS = Path(APP).parent / "views"


@pytest.fixture
def required(web_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The footage library served with sign-in required (as on 0.0.0.0, or docker compose)."""
    monkeypatch.setenv("VIDSEARCH_AUTH", "required")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """What the next AppTest's browser sends: a session cookie, and its request's headers."""
    from ui.web import viewer

    sent: dict[str, object] = {"cookie": None, "headers": ["host", "user-agent"]}
    monkeypatch.setattr(viewer, "browser_cookie", lambda: sent["cookie"])
    monkeypatch.setattr(viewer, "_header_names", lambda: sent["headers"])
    return sent


def run(path: Path = Path(APP), **query: str) -> AppTest:
    at = AppTest.from_file(str(path), default_timeout=180)
    at.query_params.update(query)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything_shown(at: AppTest) -> str:
    parts = [
        e.value for kind in ("markdown", "caption", "title", "subheader") for e in at.get(kind)
    ]
    parts += [b.label for b in at.button] + [h.proto.body for h in at.get("html")]
    parts += [link.proto.label for link in at.get("page_link")]
    return "\n".join(str(p) for p in parts)


def person(settings: Settings, name: str, *, admin: bool = False) -> dict:
    return users.add_user(settings, name, admin=admin, password="correct horse battery")


def test_nobody_gets_the_sign_in_form_and_nothing_of_the_library(required, browser):
    person(required, "Secret Sam")
    at = run()
    forms = " ".join(h.proto.body for h in at.get("html"))
    assert 'action="/account/signin"' in forms and 'type="password"' in forms
    assert 'name="username"' in forms and 'name="token"' in forms
    shown = everything_shown(at)
    for private in ("bikes", "espresso", "Secret Sam", "boss", "Re-index", "Remove", "Add videos"):
        assert private not in shown, private
    assert not at.get("page_link") and not at.get("video") and not at.file_uploader
    # A deep link lands on the same form, and keeps where it was going for after signing in.
    deep = run(signin="failed", next="/video?v=abc&t=3")
    assert "Wrong name, password or token." in deep.error[0].value
    assert 'name="next" value="/video?v=abc&amp;t=3"' in " ".join(
        h.proto.body for h in deep.get("html")
    )


def test_a_plain_user_sees_the_library_but_no_admin_page_or_action(required, browser):
    ana = person(required, "Ana22")
    person(required, "Other22")
    browser["cookie"] = web_sessions.sign_in_with_password(
        required, "ana22", "correct horse battery"
    ).cookie
    at = run()
    assert "Signed in as **Ana22**" in [c.value for c in at.sidebar.caption]
    sidebar = " ".join(h.proto.body for h in at.sidebar.get("html"))
    assert 'action="/account/signout"' in sidebar and "watch-as" not in sidebar
    assert "Other22" not in everything_shown(at), "nobody but an admin sees who else is here"
    assert not any("Add a profile" in p.label for p in at.sidebar.get("popover"))
    library = at.switch_page("views/library.py").run()
    assert "**bikes**" in [link.proto.label for link in library.get("page_link")]
    assert not [b for b in library.button if b.key and b.key.startswith(("reindex-", "remove-"))]
    assert "Files that could not be indexed" not in [s.value for s in library.subheader]
    # The admin pages refuse a user even when their code is reached directly.
    from ui.web import viewer

    for page in ("ingest.py", "settings.py"):
        direct = AppTest.from_file(str(VIEWS / page), default_timeout=60)
        direct.session_state[viewer.KEY] = viewer.Viewer(ana["user_id"], "Ana22", "user", False)
        direct.run()
        assert "This page is for admins." in direct.error[0].value, page
        assert not direct.file_uploader and not direct.text_input, page
    assert ana["role"] == "user"


def test_only_an_admin_adds_people(required, browser):
    person(required, "Admin22", admin=True)
    browser["cookie"] = web_sessions.sign_in_with_password(
        required, "Admin22", "correct horse battery"
    ).cookie
    at = run()
    assert not any("Add a profile" in p.label for p in at.sidebar.get("popover"))
    settings_page = at.switch_page("views/settings.py").run()
    assert not settings_page.exception, settings_page.exception
    settings_page.text_input(key="person-name").input("Newbie22")
    settings_page.text_input(key="person-pw").input("long enough secret")
    settings_page.button(key="FormSubmitter:add-person-Add").click().run()
    assert any(c.value.startswith("vsu_") for c in settings_page.code)
    newbie = web_sessions.sign_in_with_password(required, "newbie22", "long enough secret")
    assert newbie.user["role"] == "user"


def test_a_profile_picked_on_a_local_server_proves_nothing_once_sign_in_is_required(
    required, browser
):
    someone = person(required, "Picked22")
    browser["cookie"] = web_sessions.sign_in_local(required, someone["user_id"]).cookie
    at = run()
    assert 'action="/account/signin"' in " ".join(h.proto.body for h in at.get("html"))
    assert "Picked22" not in everything_shown(at)


def test_on_a_local_server_a_proxied_request_must_sign_in(web_settings, browser, monkeypatch):
    from ui.web import access

    # `vidsearch ui` on 127.0.0.1 with the default VIDSEARCH_AUTH=auto.
    monkeypatch.setattr(access, "bound_address", lambda: "127.0.0.1")
    monkeypatch.setenv("VIDSEARCH_AUTH", "auto")
    get_settings.cache_clear()
    owner = run()
    assert "Who is watching?" in [s.value for s in owner.sidebar.subheader]
    browser["headers"] = ["host", "x-forwarded-for"]
    proxied = run()
    assert 'action="/account/signin"' in " ".join(h.proto.body for h in proxied.get("html"))
    assert not proxied.sidebar.subheader
