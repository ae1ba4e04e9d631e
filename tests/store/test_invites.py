"""The invite store on both databases: links, limits, and redemption racing itself."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from server.auth.tokens import Signers
from server.protocol import ErrorCode
from server.store import invites, programs
from server.store.database import Database, utcnow
from server.store.invites import InviteInfo, InviteRefused
from tests.support.live import TEST_KEYS
from tests.support.seed import create_user
from tests.support.timing import units

SIGNERS = Signers(TEST_KEYS)


@dataclass
class Place:
    program: int
    cohort: int
    admin: int


@pytest.fixture
async def place(db: Database) -> Place:
    admin = await create_user(db, "admin", "admin")
    async with db.write() as conn:
        program = await programs.create_program(conn, name="Evening IOP", creator=admin.person)
        cohort, _ = await programs.create_cohort(
            conn, program_id=program.id, name="Spring", starts_on=date(2026, 3, 2), ends_on=None
        )
    return Place(program.id, cohort.id, admin.person.id)


async def new_invite(
    db: Database, place: Place, max_uses: int = 1, expires_at: datetime | None = None, role: str = "participant"
) -> InviteInfo:
    async with db.write() as conn:
        return await invites.create(
            conn,
            program_id=place.program,
            cohort_id=place.cohort if role == "participant" else None,
            role=role,
            real_name="Pat Doe",
            max_uses=max_uses,
            expires_at=expires_at or utcnow() + timedelta(days=7),
            created_by=place.admin,
        )


async def redeem(db: Database, invite_id: str, now: datetime | None = None) -> InviteInfo:
    async with db.write() as conn:
        return await invites.redeem(conn, invite_id, now)


async def refusal(db: Database, invite_id: str, now: datetime | None = None) -> ErrorCode:
    with pytest.raises(InviteRefused) as caught:
        await redeem(db, invite_id, now)
    return caught.value.code


async def uses_of(db: Database, invite_id: str) -> int:
    async with db.read() as conn:
        found = await invites.get(conn, invite_id)
    assert found is not None
    return found.uses


async def test_an_invite_names_its_program_and_cohort(db: Database, place: Place) -> None:
    invite = await new_invite(db, place)
    assert 16 <= len(invite.id) <= 32
    assert (invite.program_name, invite.cohort_name, invite.role, invite.uses) == (
        "Evening IOP",
        "Spring",
        "participant",
        0,
    )
    preview = invite.preview(utcnow())
    assert preview["valid"] is True and preview["program"]["name"] == "Evening IOP"
    assert "real_name" not in preview and "created_by" not in preview


async def test_a_limited_invite_gives_exactly_its_uses(db: Database, place: Place) -> None:
    invite = await new_invite(db, place, max_uses=3)
    for expected in (1, 2, 3):
        assert (await redeem(db, invite.id)).uses == expected
    assert await refusal(db, invite.id) == ErrorCode.INVITE_USED
    assert await uses_of(db, invite.id) == 3


async def test_expired_revoked_and_deleted_cohort_invites_are_refused(db: Database, place: Place) -> None:
    expiring = await new_invite(db, place, expires_at=utcnow() + timedelta(hours=1))
    assert await refusal(db, expiring.id, now=utcnow() + timedelta(hours=2)) == ErrorCode.INVITE_EXPIRED
    past = await new_invite(db, place, expires_at=utcnow() - timedelta(seconds=1))
    assert await refusal(db, past.id) == ErrorCode.INVITE_EXPIRED

    revoked = await new_invite(db, place)
    async with db.write() as conn:
        await invites.revoke(conn, revoked.id)
    assert await refusal(db, revoked.id) == ErrorCode.INVITE_REVOKED

    gone = await new_invite(db, place)
    staff = await new_invite(db, place, role="staff")
    async with db.write() as conn:
        await programs.delete_cohort(conn, place.cohort)
    assert await refusal(db, gone.id) == ErrorCode.INVITE_GONE
    assert (await redeem(db, staff.id)).uses == 1  # program-wide invites do not depend on a cohort
    for invite in (expiring, past, revoked, gone):
        assert await uses_of(db, invite.id) == 0
    assert await refusal(db, "no-such-invite") == ErrorCode.INVITE_INVALID


async def test_a_use_rolls_back_with_its_transaction(db: Database, place: Place) -> None:
    invite = await new_invite(db, place)
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await invites.redeem(conn, invite.id)
            raise RuntimeError("registration failed after the redemption")
    assert await uses_of(db, invite.id) == 0
    assert (await redeem(db, invite.id)).uses == 1


async def test_a_second_redeemer_waits_for_the_first_and_is_refused(db: Database, place: Place) -> None:
    """The first transaction holds the use; the second cannot decide until it commits."""
    invite = await new_invite(db, place)
    redeemed = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with db.write() as conn:
            await invites.redeem(conn, invite.id)
            redeemed.set()
            await release.wait()

    holder = asyncio.create_task(first())
    await redeemed.wait()
    second = asyncio.create_task(refusal(db, invite.id))
    done, _ = await asyncio.wait({second}, timeout=units(0.3))
    assert not done, "the second redemption decided while the first was still open"
    release.set()
    await holder
    assert await asyncio.wait_for(second, units(10)) == ErrorCode.INVITE_USED
    assert await uses_of(db, invite.id) == 1


async def test_many_racing_redeemers_get_exactly_the_uses(db: Database, place: Place) -> None:
    invite = await new_invite(db, place, max_uses=2)
    results = await asyncio.gather(*(redeem(db, invite.id) for _ in range(6)), return_exceptions=True)
    assert sum(isinstance(r, InviteInfo) for r in results) == 2
    assert all(r.code == ErrorCode.INVITE_USED for r in results if isinstance(r, InviteRefused))
    assert await uses_of(db, invite.id) == 2


async def withdraw(db: Database, invite_ids: list[str]) -> list[str]:
    async with db.write() as conn:
        return await invites.withdraw_usable(conn, invite_ids)


async def test_a_withdrawal_revokes_only_the_invites_that_could_still_be_used(db: Database, place: Place) -> None:
    live = await new_invite(db, place, max_uses=10)
    used_up = await new_invite(db, place)
    await redeem(db, used_up.id)
    expired = await new_invite(db, place, expires_at=utcnow() - timedelta(seconds=1))
    revoked = await new_invite(db, place)
    async with db.write() as conn:
        await invites.revoke(conn, revoked.id)
        first = await invites.get(conn, revoked.id)
    assert first is not None and first.revoked_at is not None
    wanted = [used_up.id, live.id, expired.id, revoked.id, "no-such-invite", live.id]
    assert await withdraw(db, wanted) == [live.id]
    assert await refusal(db, live.id) == ErrorCode.INVITE_REVOKED
    async with db.read() as conn:
        after = {invite.id: invite for invite in await invites.of_program(conn, place.program)}
    assert [after[i].revoked_at for i in (used_up.id, expired.id)] == [None, None]  # dead already: left alone
    assert after[revoked.id].revoked_at == first.revoked_at  # the first revocation stands
    assert await withdraw(db, [live.id]) == []  # withdrawn once
    assert await withdraw(db, []) == []


async def test_a_withdrawal_waits_for_a_registration_taking_the_last_use(db: Database, place: Place) -> None:
    """It decides on the invite as committed: one that the registration used up is left alone."""
    invite = await new_invite(db, place, max_uses=2)
    await redeem(db, invite.id)
    redeemed = asyncio.Event()
    release = asyncio.Event()

    async def registration() -> None:
        async with db.write() as conn:
            await invites.redeem(conn, invite.id)  # the last use, not committed yet
            redeemed.set()
            await release.wait()

    holder = asyncio.create_task(registration())
    await redeemed.wait()
    withdrawal = asyncio.create_task(withdraw(db, [invite.id]))
    done, _ = await asyncio.wait({withdrawal}, timeout=units(0.3))
    assert not done, "the withdrawal decided while the registration was still open"
    release.set()
    await holder
    assert await asyncio.wait_for(withdrawal, units(10)) == []
    async with db.read() as conn:
        found = await invites.get(conn, invite.id)
    assert found is not None and (found.uses, found.revoked_at) == (2, None)


def test_links_read_back_only_with_the_invite_signer() -> None:
    token = SIGNERS.invite.sign("abc123")
    assert invites.invite_id_of(SIGNERS.invite, token) == "abc123"
    for other in (SIGNERS.session, SIGNERS.export, SIGNERS.csrf):
        with pytest.raises(InviteRefused) as caught:
            invites.invite_id_of(SIGNERS.invite, other.sign("abc123"))
        assert caught.value.code == ErrorCode.INVITE_INVALID
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "", "garbage", "x" * 600, SIGNERS.invite.sign(42), SIGNERS.invite.sign("x" * 33)):
        with pytest.raises(InviteRefused) as caught:
            invites.invite_id_of(SIGNERS.invite, bad)
        assert caught.value.code == ErrorCode.INVITE_INVALID
    with pytest.raises(InviteRefused) as caught:  # genuine but older than any invite may live
        invites.invite_id_of(SIGNERS.invite, token, max_age=-1)
    assert caught.value.code == ErrorCode.INVITE_EXPIRED
