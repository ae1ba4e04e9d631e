"""Signed tokens: keys rotate without signing anyone out, and a token serves only its purpose.

``SECRET_KEYS`` is newest first: the newest signs, every key verifies. Each purpose (session,
CSRF, invite, export) has its own salt, so a token made for one is refused for every other.
"""

from __future__ import annotations

from itertools import permutations

import httpx

from server.auth.tokens import Purpose, Signer
from server.store.database import Database
from tests.support.live import live_server, settings_for
from tests.support.seed import create_user

OLD = "old-key-0123456789abcdefghijklmnopqrstuv"
NEW = "new-key-0123456789abcdefghijklmnopqrstuv"


def test_a_token_signed_with_the_previous_key_still_verifies_and_new_ones_use_the_newest() -> None:
    before = Signer((OLD,), Purpose.SESSION).sign("s1")
    rotated = Signer((NEW, OLD), Purpose.SESSION)
    assert rotated.verify(before) == "s1"
    after = rotated.sign("s2")
    assert Signer((NEW,), Purpose.SESSION).verify(after) == "s2"  # signed with the newest key
    assert Signer((OLD,), Purpose.SESSION).verify(after) is None
    assert Signer((NEW,), Purpose.SESSION).verify(before) is None  # once the old key is dropped, so are its tokens


def test_a_token_for_one_purpose_is_refused_for_every_other() -> None:
    keys = (NEW, OLD)
    for made_for, used_for in permutations(Purpose, 2):
        token = Signer(keys, made_for).sign("payload")
        assert Signer(keys, used_for).verify(token) is None, (made_for, used_for)
        assert Signer(keys, made_for).verify(token) == "payload"


async def test_rotating_keys_keeps_people_signed_in_and_other_tokens_stay_out(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    ann = await create_user(db, "ann")
    await db.dispose()
    login = {"username": ann.username, "password": ann.password}

    async with (
        live_server(settings_for(sqlite_url, secret_keys=(OLD,))) as live,
        httpx.AsyncClient(base_url=live.url) as http,
    ):
        before = (await http.post("/api/auth/login", json=login)).json()["token"]

    async with (
        live_server(settings_for(sqlite_url, secret_keys=(NEW, OLD))) as live,
        httpx.AsyncClient(base_url=live.url) as http,
    ):

        async def me(token: str) -> int:
            return (await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code

        assert await me(before) == 200  # signed with the previous key: still signed in
        after = (await http.post("/api/auth/login", json=login)).json()["token"]
        assert await me(after) == 200
        session_id = Signer((NEW, OLD), Purpose.SESSION).verify(after)
        for purpose in (Purpose.INVITE, Purpose.EXPORT, Purpose.CSRF):
            assert await me(Signer((NEW, OLD), purpose).sign(session_id)) == 401, purpose

    async with (
        live_server(settings_for(sqlite_url, secret_keys=(NEW,))) as live,
        httpx.AsyncClient(base_url=live.url) as http,
    ):
        statuses = [
            (await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})).status_code
            for token in (before, after)
        ]
    assert statuses == [401, 200]  # the old key retired: only what the newest signed still counts
