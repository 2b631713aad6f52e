"""Names that read the same are one name; web UI passwords (argon2id) and the signed session
cookies of the web UI, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import stat
from datetime import timedelta

import pytest

from core import web_sessions
from core.db import session_scope
from core.models import WebSession, utcnow
from core.names import name_key
from core.passwords import PasswordError, hash_password, verify_password
from core.settings import Settings
from services import users
from services import web_sessions as signin


@pytest.mark.parametrize(
    "lookalike",
    ["BOSS", "Boss", "bo\u200bss", "b\u200doss", "bo\u00adss", "ｂｏｓｓ", " boss ", "boss\ufe0f"],
)
def test_a_name_that_reads_the_same_as_a_taken_one_is_refused(catalog, lookalike):
    users.add_user(catalog, "boss", admin=True)
    with pytest.raises(users.UserExists, match="reads the same as 'boss'|already exists"):
        users.add_user(catalog, lookalike)
    assert [u["name"] for u in users.list_users(catalog)] == ["boss"]


def test_names_are_compared_folded_but_kept_as_typed(catalog):
    ana = users.add_user(catalog, "Ana María")
    assert name_key("ANA  MARÍA") == name_key("ana maría") == "ana maría"
    assert name_key("Straße") == name_key("STRASSE")
    assert users.list_users(catalog)[0]["name"] == "Ana María"
    # Whoever names the user finds them whatever the case: the CLI's --user, a sign-in.
    assert users.user_id_of(catalog, name="ana maría") == ana["user_id"]
    # Persian writes a zero-width non-joiner inside words: such a name is kept, not refused.
    persian = users.add_user(catalog, "مهر\u200cناز")
    assert persian["name"] == "مهر\u200cناز"
    with pytest.raises(users.UserError, match="no visible characters"):
        users.add_user(catalog, "\u200b\u200b")


def test_a_password_is_stored_as_an_argon2id_hash_and_checked_in_constant_work():
    stored = hash_password("correct horse battery")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password(None, "anything at all")  # nobody's: a dummy hash is checked
    assert not verify_password(stored, "")
    for bad in ["short", " " * 12, "x" * 1025]:
        with pytest.raises(PasswordError):
            hash_password(bad)


def test_signing_in_with_a_password_opens_a_session_the_cookie_names(catalog):
    users.add_user(catalog, "ana", password="correct horse")
    signed = signin.sign_in_with_password(catalog, "ANA", "correct horse")
    assert signed.user["name"] == "ana" and signed.expires_at > utcnow() + timedelta(days=29)
    me = signin.signed_in_user(catalog, signed.cookie)
    assert me is not None and (me["name"], me["method"]) == ("ana", "password")
    for wrong in [("ana", "wrong horse"), ("nobody", "correct horse"), ("ana", "")]:
        with pytest.raises(signin.NotAuthorized, match="wrong name or password"):
            signin.sign_in_with_password(catalog, *wrong)


def test_a_user_without_a_password_signs_in_with_their_api_token_only(catalog):
    bob = users.add_user(catalog, "bob")
    with pytest.raises(signin.NotAuthorized):
        signin.sign_in_with_password(catalog, "bob", "")
    signed = signin.sign_in_with_token(catalog, bob["token"])
    assert signin.signed_in_user(catalog, signed.cookie)["method"] == "token"
    with pytest.raises(signin.NotAuthorized):
        signin.sign_in_with_token(catalog, bob["token"][:-3] + "xyz")


def test_a_forged_altered_or_expired_cookie_signs_in_nobody(catalog):
    ana = users.add_user(catalog, "ana", password="correct horse")
    cookie = signin.sign_in_with_password(catalog, "ana", "correct horse").cookie
    sid, secret, signature = cookie.split(".")
    other_key = signin.sign_in_with_password(catalog, "ana", "correct horse").cookie
    for forged in [
        f"{sid}.{secret}.{signature[:-2]}AA",  # a signature that is not ours
        f"{int(sid) + 1}.{secret}.{signature}",  # another session's id under this signature
        f"{sid}.{secret[:-2]}xx.{signature}",
        f"{other_key.split('.')[0]}.{secret}.{signature}",
        "",
        "garbage",
        "1.2",
        "x" * 5000,
    ]:
        assert signin.signed_in_user(catalog, forged) is None, forged
    with session_scope(catalog) as s:
        s.get(WebSession, int(sid)).expires_at = utcnow() - timedelta(seconds=1)
    assert signin.signed_in_user(catalog, cookie) is None
    with session_scope(catalog) as s:
        assert s.get(WebSession, int(sid)) is None, "an expired session is dropped when seen"
    assert ana["user_id"]


def test_signing_out_and_a_new_password_end_sessions_everywhere(catalog):
    users.add_user(catalog, "ana", password="correct horse")
    here = signin.sign_in_with_password(catalog, "ana", "correct horse").cookie
    there = signin.sign_in_with_password(catalog, "ana", "correct horse").cookie
    assert signin.sign_out(catalog, here)
    assert signin.signed_in_user(catalog, here) is None
    assert signin.signed_in_user(catalog, there) is not None
    signin.set_password(catalog, "ana", "a new horse")
    assert signin.signed_in_user(catalog, there) is None
    with pytest.raises(signin.NotAuthorized):
        signin.sign_in_with_password(catalog, "ana", "correct horse")
    assert signin.sign_in_with_password(catalog, "ana", "a new horse").cookie


def test_the_signing_key_is_made_once_private_and_shared_by_every_process(settings):
    first = web_sessions.signing_key(settings)
    path = settings.secrets_dir / web_sessions.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(settings.secrets_dir).st_mode) == 0o700
    assert web_sessions.signing_key(settings) == first and len(first) >= 32
    # A cookie made under one key is nobody's under another (a leaked cookie of an old install).
    users.add_user(settings, "ana", password="correct horse")
    cookie = signin.sign_in_with_password(settings, "ana", "correct horse").cookie
    rekeyed = settings.model_copy(update={"session_secret": "k" * 40})
    assert signin.signed_in_user(rekeyed, cookie) is None
    assert signin.signed_in_user(settings, cookie) is not None


def test_a_bad_password_given_with_a_new_user_leaves_no_user(catalog):
    with pytest.raises(users.PasswordError):
        users.add_user(catalog, "carol", password="short")
    assert users.list_users(catalog) == []


def test_settings_read_hosts_and_proxies_as_lists(monkeypatch):
    from core.settings import load_settings

    monkeypatch.setenv("VIDSEARCH_ALLOWED_HOSTS", "videos.home.example, nas.local")
    monkeypatch.setenv("VIDSEARCH_TRUSTED_PROXIES", "10.0.0.0/8")
    got: Settings = load_settings()
    assert got.allowed_hosts == ["videos.home.example", "nas.local"]
    assert got.trusted_proxies == ["10.0.0.0/8"]


def test_onnxruntime_keeps_no_telemetry_files_outside_vidsearch_home(tmp_path):
    """Imported as vidsearch imports it, onnxruntime writes nothing under the user's home
    (it would keep a device id and an event database under ~/.cache/Microsoft)."""
    import subprocess
    import sys

    home = tmp_path / "person"
    home.mkdir()
    # onnxruntime keeps quiet by itself where CI is set: the person's machine has no CI.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ORT_", "XDG_", "DO_NOT")) and k not in ("CI", "GITHUB_ACTIONS")
    }
    code = "from videobert import query_encoder; query_encoder.quiet_third_parties(); import onnxruntime"
    bare = "import onnxruntime"
    for script, expect_files in [(code, False), (bare, True)]:
        subprocess.run(
            [sys.executable, "-c", script], env={**env, "HOME": str(home)}, check=True, timeout=120
        )
        written = [p for p in home.rglob("*") if p.is_file()]
        assert bool(written) == expect_files, (script, written)
