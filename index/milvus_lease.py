"""The one-writer lease of a Milvus index, kept in its `meta` collection without transactions.

Milvus has no compare-and-set, so the lease is a ticket protocol over one row per claimant
(`claim:<token>`), Lamport's bakery refusing instead of waiting for a lower ticket:
1. insert our claim as "choosing" (no ticket yet);
2. read every live claim and take ticket = 1 + the highest one seen; write it;
3. read every live claim again, waiting (briefly) while another is still choosing: we hold
   the lease when our (ticket, token) is the lowest; otherwise we delete our claim and refuse,
   naming the holder.
Why not "the earliest timestamp wins": a timestamp is taken before the insert, so a claimant
that stalled between the two (or whose clock runs behind) can insert second yet sort first,
after the first one already saw itself alone: both would write. Here a claimant that reads
before another's insert is seen by that other in step 3 with a ticket the other's step 2
already exceeded, so two claimants can never both hold. This needs reads that see every
write acknowledged before them: the queries ask for Strong consistency.
A claim past its expiry (an indexer that crashed or hung) is ignored and deleted; the holder
renews its claim before each batch, and one whose claim lapsed (a long first scan of the
articles) claims again like a newcomer.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .errors import IndexLocked

if TYPE_CHECKING:
    from .milvus_storage import MilvusConnection

CLAIM_PREFIX = "claim:"
# How long a claim holds without renewal; the holder renews before each batch.
LEASE_SECONDS = 600.0
# A claim still choosing its ticket after this long belongs to an indexer that died in between.
CHOOSING_SECONDS = 30.0
# Step 3 waits at most this long for another claimant to finish choosing, then refuses.
CHOOSING_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class Claim:
    """One indexer's claim row: `ticket` is None while it is still choosing."""

    token: str
    ticket: int | None
    expires: float
    host: str
    pid: int
    since: float

    @property
    def order(self) -> tuple[int, str]:
        return (self.ticket if self.ticket is not None else 0, self.token)

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.since, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"the indexer on {self.host} (pid {self.pid}, since {since})"


class MilvusLease:
    """Our claim on writing one Milvus index; `acquire` before writing, `release` at the end."""

    def __init__(self, conn: "MilvusConnection", seconds: float = LEASE_SECONDS) -> None:
        self.conn = conn
        self.seconds = seconds
        self.token = uuid.uuid4().hex
        self.key = CLAIM_PREFIX + self.token
        self.ticket: int | None = None
        self.since = time.time()

    def acquire(self) -> None:
        """Hold the lease, or refuse.

        Raises:
            IndexLocked: another indexer holds it (named in the message).
        """
        self._write(None, CHOOSING_SECONDS)
        try:
            others = self._live_others()
            ticket = 1 + max((c.ticket or 0 for c in others), default=0)
            self._write(ticket, self.seconds)
            deadline = time.monotonic() + CHOOSING_WAIT_SECONDS
            while True:
                others = self._live_others()
                choosing = [c for c in others if c.ticket is None]
                if not choosing or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            ahead = sorted((c for c in others if c.ticket is not None and c.order < (ticket, self.token)),
                           key=lambda c: c.order)
            if ahead or choosing:
                holder = (ahead or choosing)[0]
                lapses = datetime.fromtimestamp(holder.expires, timezone.utc).strftime("%H:%M:%S UTC")
                raise IndexLocked(f"another indexer is writing the Milvus index {self.conn.prefix!r} at "
                                  f"{self.conn.uri}: held by {holder.describe()}; try again when it has "
                                  f"finished (if it crashed, its lease lapses at {lapses})")
        except BaseException:
            self._delete()
            raise
        self.ticket = ticket

    def renew(self) -> bool:
        """Extend our claim (before each batch) if we still hold it; False when it lapsed (it
        expired, and maybe another indexer took the index since): the caller acquires again
        and checks that nothing changed meanwhile."""
        mine = [c for c in self._claims() if c.token == self.token and c.expires > time.time()]
        ahead = [c for c in self._live_others() if c.ticket is not None and c.order < (self.ticket or 0, self.token)]
        if not mine or ahead:
            self._delete()
            self.ticket = None
            return False
        self._write(self.ticket, self.seconds)
        return True

    def release(self) -> None:
        self._delete()

    # -- rows ----------------------------------------------------------------------
    def _write(self, ticket: int | None, seconds: float) -> None:
        value = {"ticket": ticket, "expires": time.time() + seconds, "host": socket.gethostname(),
                 "pid": os.getpid(), "since": self.since}
        self.conn.client.upsert(self.conn.name("meta"), [{"key": self.key, "value": json.dumps(value),
                                                          "_v": [0.0, 0.0]}])

    def _delete(self) -> None:
        self.conn.client.delete(self.conn.name("meta"), ids=[self.key])

    def _claims(self) -> list[Claim]:
        rows = self.conn.client.query(self.conn.name("meta"), filter=f'key like "{CLAIM_PREFIX}%"',
                                      output_fields=["key", "value"], consistency_level="Strong")
        claims = []
        for row in rows:
            value = json.loads(row["value"])
            claims.append(Claim(row["key"][len(CLAIM_PREFIX):], value["ticket"], float(value["expires"]),
                                value.get("host", "?"), int(value.get("pid", 0)), float(value.get("since", 0))))
        return claims

    def _live_others(self) -> list[Claim]:
        """Other claimants' live claims; expired ones (crashed indexers) are deleted on the way."""
        now = time.time()
        claims = [c for c in self._claims() if c.token != self.token]
        expired = [CLAIM_PREFIX + c.token for c in claims if c.expires <= now]
        if expired:
            self.conn.client.delete(self.conn.name("meta"), ids=expired)
        return [c for c in claims if c.expires > now]
