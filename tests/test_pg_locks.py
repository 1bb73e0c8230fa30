"""The workers' locks on a real PostgreSQL server: a person's lock held by one worker is
refused to another, counted when taken again within the worker, let go by the last to
leave, and gone with a worker's session; a role has one holder at a time."""

from __future__ import annotations

import asyncio

from bot.store.pg_locks import PgLocks


async def test_a_person_held_by_one_worker_waits_for_it_in_another(pg_url: str) -> None:
    one, two = PgLocks(pg_url, "db"), PgLocks(pg_url, "db")
    try:
        async with one.person(7):
            assert not await two.try_person(7)
            async with one.person(7):  # a reminder's turn inside the run: counted here
                pass
            assert not await two.try_person(7), "still held: the outer holder remains"
            waiting = asyncio.create_task(_hold(two, 7))
            await asyncio.sleep(0.05)
            assert not waiting.done(), "the other worker waits"
        await asyncio.wait_for(waiting, 5)
        assert await one.try_person(7), "let go by the other once it was done"
        await one.release_person(7)
    finally:
        await one.close()
        await two.close()


async def _hold(locks: PgLocks, user_id: int) -> None:
    async with locks.person(user_id):
        await asyncio.sleep(0.01)


async def test_two_turns_of_one_worker_take_the_server_lock_once(pg_url: str) -> None:
    """Taken at once by two coroutines of one worker, the lock is asked of the server
    once: letting both go leaves nothing held (another worker gets it)."""
    one, two = PgLocks(pg_url, "db"), PgLocks(pg_url, "db")
    try:
        await asyncio.gather(_hold(one, 8), _hold(one, 8), _hold(one, 8))
        assert await two.try_person(8)
    finally:
        await one.close()
        await two.close()


async def test_a_role_has_one_holder_and_goes_with_its_session(pg_url: str) -> None:
    one, two = PgLocks(pg_url, "db"), PgLocks(pg_url, "db")
    try:
        assert await one.try_role("sender")
        assert not await two.try_role("sender")
        assert await two.try_role("poller"), "each role is its own"
        await one.close()  # the worker's session ends (as when it is killed)
        for _ in range(250):  # the server lets go once that session's process has ended
            if await two.try_role("sender"):
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("the role was not let go with its session")
        assert await two.alive()
    finally:
        await one.close()
        await two.close()
