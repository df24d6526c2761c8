"""Rasa's Redis lock store, with every change of a conversation's lock made atomically in Redis.

Several Rasa instances share one lock store so that a conversation's messages
are handled one at a time, whichever instance gets them. Rasa 3.6's
``RedisLockStore`` changes a lock (a ``TicketLock``: the queue of tickets for
one conversation, stored as JSON under ``lock:<conversation id>``) with a GET,
a change in Python and a SET. Two instances that issue a ticket at the same
instant both read the same queue, both take the same number and both run;
a cleanup or an expiry sweep that interleaves with another instance's change
writes back a queue without that instance's ticket, or deletes the lock under
a waiting message.

Here each such change (issue a ticket, drop expired tickets, finish serving,
clean up) is one Redis optimistic transaction: WATCH the lock's key, read it,
change it with Rasa's own ``TicketLock`` code, and MULTI/SET (or DEL)/EXEC.
If another instance changed the key in between, EXEC does nothing and the
change is made again on what that instance wrote. Ticket numbers, lifetimes,
the removal of expired tickets, the deletion of a lock nobody waits for and the
key prefix are Rasa's; only the interleavings are gone.

Enabled in endpoints.yml: ``lock_store: {type: bot.rasa.lock_store.CareerRedisLockStore, url: ..., port: ...}``,
with the same fields as Rasa's ``type: redis``.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, Text, Tuple, TypeVar, Union

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What a change does to the stored lock: write this lock, delete the key (None), or leave it as it is.
KEEP = object()
Outcome = Union[TicketLock, None, object]

# Each failed attempt means another instance changed this lock meanwhile, so the conversation's
# queue moved on; this many in a row is not contention but a fault, reported as a LockError.
MAX_ATTEMPTS = 100


class CareerRedisLockStore(RedisLockStore):
    """Ticket locks in Redis whose every read-modify-write is a WATCH/MULTI/EXEC transaction."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        # Rasa builds a custom lock store as `cls(endpoint_config=...)`; `type: redis` passes
        # the url as the host and every other field as a keyword. Same here.
        if endpoint_config is not None:
            if endpoint_config.url:
                kwargs.setdefault("host", endpoint_config.url)
            kwargs = {**endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Adds a ticket to the conversation's queue (creating the lock if none exists) and returns its number."""
        logger.debug(f"Issuing ticket for conversation '{conversation_id}'.")

        def issue(lock: Optional[TicketLock]) -> Tuple[int, Outcome]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except Exception as error:
            # As Rasa's: whatever went wrong, the caller gets a LockError.
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: Text) -> None:
        """Removes the lock's expired tickets."""

        def sweep(lock: Optional[TicketLock]) -> Tuple[None, Outcome]:
            if lock is None:
                return None, KEEP
            held = len(lock.tickets)
            lock.remove_expired_tickets()
            # Waiters call this once per poll; writing an unchanged lock would only make
            # every other instance's transaction on it start over.
            return None, lock if len(lock.tickets) != held else KEEP

        self._change(conversation_id, sweep)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        """Removes the ticket `ticket_number` (and expired ones) from the lock."""

        def finish(lock: Optional[TicketLock]) -> Tuple[None, Outcome]:
            if lock is None:
                return None, KEEP
            lock.remove_ticket_for(ticket_number)
            return None, lock

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        """Removes the ticket `ticket_number`, and the lock itself if no one else waits for it.

        One transaction: in Rasa's, a ticket issued between the check and the
        delete was deleted with the lock, and its holder ran alongside the next.
        """

        def finish(lock: Optional[TicketLock]) -> Tuple[bool, Outcome]:
            if lock is None:
                return False, KEEP
            lock.remove_ticket_for(ticket_number)
            if lock.is_someone_waiting():
                return False, lock
            return True, None

        if self._change(conversation_id, finish):
            self._log_deletion(conversation_id, True)

    def _change(self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[T, Outcome]]) -> T:
        """Applies `change` to the stored lock atomically; returns its result.

        `change` gets the lock as stored (None if there is none) and returns
        its result and what to store: a lock, None to delete the key, or KEEP.
        It may run more than once, each time on a fresh read.
        """
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    result, outcome = change(lock)
                    if outcome is KEEP:
                        return result
                    pipe.multi()
                    if isinstance(outcome, TicketLock):
                        pipe.set(key, outcome.dumps())
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError as error:
                    # redis-py 4.x also raises WatchError when the connection fails while a key
                    # is watched, EXEC included: the change may have been made, and making it
                    # again would issue a second ticket that blocks the queue for its lifetime.
                    if error.__context__ is not None:
                        raise LockError(
                            f"Lost the connection to Redis while changing the lock for conversation "
                            f"'{conversation_id}': {error.__context__}"
                        ) from error.__context__
                    logger.debug(f"Lock for conversation '{conversation_id}' changed meanwhile; trying again.")
                finally:
                    pipe.reset()
        raise LockError(
            f"Could not change the lock for conversation '{conversation_id}': "
            f"another instance changed it during each of {MAX_ATTEMPTS} attempts."
        )
