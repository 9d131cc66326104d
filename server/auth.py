"""Identity tokens: issuing them for peers and staff, and turning a token back into an Identity."""

from __future__ import annotations

import secrets

from crypto.tokens import TokenError, TokenSigner
from moderation.models import StaffAccount
from moderation.store import ModStore
from rooms.clock import Clock
from rooms.errors import Unauthorized
from rooms.models import Identity, Role


class Auth:
    def __init__(
        self, signer: TokenSigner, staff: ModStore, clock: Clock, *, peer_ttl_s: int, staff_ttl_s: int
    ) -> None:
        self.signer = signer
        self.staff = staff
        self.clock = clock
        self.peer_ttl_s = peer_ttl_s
        self.staff_ttl_s = staff_ttl_s

    def _now_s(self) -> int:
        return self.clock.now_ms() // 1000

    def issue_peer(self, pseudonym: str) -> tuple[str, Identity]:
        now = self._now_s()
        identity = Identity(
            id="u_" + secrets.token_urlsafe(12), pseudonym=pseudonym, role=Role.PEER, issued_at_ms=now * 1000
        )
        claims = {"k": "p", "sub": identity.id, "n": pseudonym, "iat": now, "exp": now + self.peer_ttl_s}
        token = self.signer.sign(claims)
        return token, identity

    def issue_staff(self, account: StaffAccount) -> tuple[str, Identity]:
        now = self._now_s()
        identity = Identity(
            id="s_" + account.id,
            pseudonym=account.name,
            role=account.role,
            staff_id=account.id,
            issued_at_ms=now * 1000,
        )
        # "pw" binds the token to the password it was issued under: a password change revokes it.
        stamp = self.signer.stamp(account.password_hash.encode("utf-8"))
        token = self.signer.sign({"k": "s", "sid": account.id, "pw": stamp, "iat": now, "exp": now + self.staff_ttl_s})
        return token, identity

    async def identify(self, token: object) -> Identity:
        """The identity behind a token; Unauthorized when it is missing, forged, expired or revoked."""
        if token is None or token == "":
            raise Unauthorized("A token is required.")
        try:
            claims = self.signer.verify(token, now_s=self._now_s())
        except TokenError:
            raise Unauthorized("The token is invalid or expired.") from None
        kind = claims.get("k")
        iat = claims.get("iat")
        issued_at_ms = iat * 1000 if isinstance(iat, int) and not isinstance(iat, bool) else 0
        if kind == "p" and isinstance(claims.get("sub"), str) and isinstance(claims.get("n"), str):
            return Identity(id=claims["sub"], pseudonym=claims["n"], role=Role.PEER, issued_at_ms=issued_at_ms)
        if kind == "s" and isinstance(claims.get("sid"), str):
            # Looked up every time (in the shared store), so a removed account's tokens, and tokens
            # issued before a password change, stop working at once on every process.
            account = await self.staff.get_staff_by_id(claims["sid"])
            if account is None:
                raise Unauthorized("This staff account no longer exists.")
            if not self.signer.stamp_matches(account.password_hash.encode("utf-8"), claims.get("pw")):
                raise Unauthorized("The password of this account has changed; sign in again.")
            return Identity(
                id="s_" + account.id,
                pseudonym=account.name,
                role=account.role,
                staff_id=account.id,
                issued_at_ms=issued_at_ms,
            )
        raise Unauthorized("The token is invalid or expired.")


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
