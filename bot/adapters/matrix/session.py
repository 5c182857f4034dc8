"""The Matrix session: logging in (password or access token), logging in again when the
homeserver revokes the token, the encryption upkeep between syncs, and stopping."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nio import AsyncClient, LoginResponse, WhoamiResponse

from bot.adapters.matrix.base import TRANSIENT, MatrixParts, MatrixStartupError

log = logging.getLogger(__name__)


class MatrixSession(MatrixParts):
    async def _login(self, client: AsyncClient, device_id: str | None) -> None:
        if self._access_token:
            client.access_token = self._access_token
            who = await client.whoami()
            if not isinstance(who, WhoamiResponse):
                raise MatrixStartupError(
                    f"matrix: the access token was refused by {self.config.homeserver}: {who}"
                )
            if who.user_id != self.config.user_id:
                raise MatrixStartupError(
                    f"matrix.user_id is {self.config.user_id} but the access token belongs "
                    f"to {who.user_id}"
                )
            client.user_id = who.user_id
            client.device_id = who.device_id or device_id or ""
            if self.e2e:
                if not who.device_id:
                    raise MatrixStartupError(
                        "matrix.encryption needs a device: the access token has none"
                    )
                client.restore_login(who.user_id, who.device_id, self._access_token)
            return
        assert self._password is not None
        res = await client.login(self._password, device_name=self.config.device_name)
        if not isinstance(res, LoginResponse):
            raise MatrixStartupError(
                f"matrix: login as {self.config.user_id} failed: {res} "
                "(check matrix.user_id and the password variable)"
            )
        self.user_id = res.user_id

    async def _login_again(self, why: object, failed_token: str | None) -> None:
        """The token was revoked (logout, password change). With a password the bot logs
        in again on the same device; with a fixed access token it cannot, and stops."""
        if self._password is None:
            raise MatrixStartupError(
                f"matrix: the homeserver no longer accepts the access token: {why}"
            )
        if not self._live or self.client is None:
            return  # standing by: the holder's login is not ours to replace
        async with self._login_lock:
            # A login on a device revokes its other tokens: log in once, not per caller.
            if self.client.access_token != failed_token:
                return
            log.warning("matrix: the homeserver logged the bot out (%s); logging in again", why)
            try:
                await self._login(self.client, self.client.device_id)
            except TRANSIENT as exc:
                log.warning("matrix: logging in again failed, will retry: %r", exc)
                return
            self.relogins += 1
        if self.e2e:
            await self._crypto_upkeep()

    async def _crypto_upkeep(self) -> None:
        """What nio's sync_forever does for encryption between syncs: publish our keys,
        learn others' devices, open sessions and send the queued room keys."""
        client = self.client
        assert client is not None
        try:
            if client.should_upload_keys:
                await client.keys_upload()
            if client.should_query_keys:
                await client.keys_query()
            if client.should_claim_keys:
                await client.keys_claim(client.get_users_for_key_claiming())
            await client.send_to_device_messages()
        except TRANSIENT as exc:
            log.warning("matrix: key upkeep failed, will retry after the next sync: %r", exc)

    async def close(self) -> None:
        await self.stop()

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop syncing, let running commands finish (up to ``grace_s``), log out of
        nothing (the device and token stay for the next start or the standby), and let go
        of the session."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._halt.set()
        # The sync loop ends first, so no request starts on a closed session.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._loop_done.wait(), grace_s)
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
            for task in pending:
                task.cancel()
        if self.client is not None:
            await self.client.close()
        self._live = False
        # Last: the standby takes over once the lock is free, and this process is done.
        await self._release_session()
