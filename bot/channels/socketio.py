"""socket.io: the channel of the website widget (bot/widget) and of other socket.io chat widgets.

Who owns a conversation
-----------------------
Stock Rasa lets a client name its conversation: whoever sent another
visitor's session id in `session_request` joined that visitor's room and saw
every later reply, and any id a client made up ("me") became a conversation.
Here the server issues every session:

- the conversation id (the tracker store's sender_id and the socket.io room)
  is a random 128-bit hex string;
- the client gets it as `<conversation id>.<token>`, the token being an
  HMAC-SHA256 of the conversation id under the session secret. That one string
  goes in `session_confirm`, as the bare string Rasa sends, so clients that
  store the confirmed id and send it back in their next `session_request`
  (the careerbot widget, rasa-webchat) rejoin their conversation after a
  reload with no change. Nothing is stored per session: the token is
  recomputed and compared in constant time;
- a `session_request` whose id does not carry a valid token (an id alone, a
  wrong token, an id the client chose) gets a new session: the client can go
  on chatting, and never enters anyone else's room;
- a `user_uttered` always goes to the session this socket was confirmed in,
  whatever `session_id` it names.

The secret is CAREERBOT_SESSION_SECRET; unset, it is generated once and kept in
`session-secret` (mode 0600) next to the SQLite store, so sessions survive a
restart. Several Rasa instances must share it through the environment.

What a client gets for a malformed event
----------------------------------------
An `error` event, `{"event": "<the event>", "error": "<why>"}`, and nothing
reaches the bot or the conversation store. A long-polling packet that is not
UTF-8 cannot be read as any event: it gets a 400 and an `error` event with
`"event": null`. Over WebSocket, a text frame that is not UTF-8 closes the
connection with code 1007 (invalid payload data), as RFC 6455 asks; Sanic
left it open and logged "Task exception was never retrieved" (the fix is in bot/rasa/internals.py,
websocket_utf8). Before, a `user_uttered` with a
null, numeric or object message got silence and left "Task exception was never
retrieved" in the log, and a session id with a lone surrogate made the store
fail. Every string is checked as REST checks it: a lone surrogate or a NUL in
the message or in any string of the metadata is refused, and so is JSON nested
deeper than a REST body may be (python-socketio's parser recursed: 30,000
levels logged a RecursionError and the packet vanished without a word). A
packet larger than CAREERBOT_MAX_BODY_BYTES closes that connection. A client
that asks for an acknowledgement (socket.io's ack callback) gets
`{"error": "<why>"}` as the ack too.

Never twice, never lost
-----------------------
A `user_uttered` may carry `message_id`, an id the client made for that
message (8 to 64 letters, digits, `-` or `_`). It becomes the Rasa message id
of the turn, so it is stored with the turn in the tracker. A message whose id
the conversation already holds is not handled again: the ack is
`{"message_id": ..., "status": "duplicate"}`, and the bot's replies to the
first copy are sent again to this socket, so a client that lost its
connection before the replies arrived still gets them. The check runs inside
the conversation's lock (bot/rasa/internals.py, answer_once): a copy sent
while the first is being answered waits for it.

The replies of a turn are held until Rasa has stored it, then sent, then the
ack `{"message_id": ..., "status": "answered"}`. When the store cannot save
the turn (another process holds SQLite's lock, the database is down), the
client gets no replies, an `error` event and the ack `{"message_id": ...,
"status": "retry", "error": ..., "retry_after": 5}`: the turn is not stored,
so it must be sent again, as REST's 503 says. The widget's outbox (bot/widget)
relies on this: it keeps a message until an ack other than "retry" comes, and
sends it again after `retry_after`, after every reconnect and after a reload.

What a page may ask before it connects
--------------------------------------
GET /webhooks/socketio/config answers any origin with `origin_allowed` (whether
the request's Origin is in CAREERBOT_CORS_ORIGINS) and `max_message_length`,
so the widget can tell a refused origin from an outage and counts characters
against the server's own limit.

Also repaired from Rasa 3.6's channel:

- Origins: stock Rasa turns the socket.io server's origin check off and
  leaves CORS to `rasa run --cors`, which a WebSocket connection bypasses.
  Here the socket.io server itself checks the allow-list from
  CAREERBOT_CORS_ORIGINS, for polling and WebSocket alike.
- Session persistence: Rasa 3.6 calls python-socketio's `enter_room`
  without awaiting it, which python-socketio 5.10+ made a coroutine, so
  replies to a persistent session never arrived (RasaHQ/rasa#13027).
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
import os
import re
import secrets
import uuid
from base64 import urlsafe_b64encode
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple, cast

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.packet import ACK

from bot import PROJECT_DIR
from bot.channels.validation import (
    MAX_JSON_DEPTH,
    MAX_MESSAGE_LENGTH,
    RETRY_AFTER_S,
    STORE_UNAVAILABLE,
    id_problem,
    json_too_deep,
    message_id_problem,
    metadata_problem,
    text_problem,
)
from bot.rasa import internals
from bot.settings import Settings

logger = logging.getLogger(__name__)

# The event that tells a client what was wrong with the event it sent.
ERROR_EVENT = "error"
SECRET_FILE_NAME = "session-secret"
# Keeps a token from ever being valid as an HMAC of the same bytes in another use of the secret.
_TOKEN_CONTEXT = b"careerbot socket.io session:"
# The start of a socket.io packet: type, attachments, namespace, ack id and the event's name.
PACKET_HEAD = re.compile(r'\d(?:\d+-)?(?:(?P<namespace>/[^,]*),)?(?P<ack>\d+)?\[\s*"(?P<event>[\w.:-]{1,64})"')


def session_token(secret: bytes, conversation_id: str) -> str:
    digest = hmac.new(secret, _TOKEN_CONTEXT + conversation_id.encode("utf-8"), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def issue(secret: bytes, conversation_id: str) -> str:
    """The session id a client keeps: the conversation id and its token."""
    return f"{conversation_id}.{session_token(secret, conversation_id)}"


def verified_conversation(secret: bytes, session_id: str) -> Optional[str]:
    """The conversation id inside `session_id` when its token is right, else None."""
    conversation_id, dot, token = session_id.partition(".")
    if not dot or not conversation_id:
        return None
    expected = session_token(secret, conversation_id)
    # Bytes: compare_digest refuses non-ASCII str, and a client's string may be anything.
    return conversation_id if hmac.compare_digest(token.encode("utf-8"), expected.encode("ascii")) else None


def load_session_secret(settings: Settings) -> bytes:
    """CAREERBOT_SESSION_SECRET, or the secret kept next to the SQLite store (made on first use)."""
    if settings.session_secret:
        return settings.session_secret.encode("utf-8")
    folder = settings.sqlite_path.parent if settings.sqlite_path is not None else PROJECT_DIR / "var"
    path = folder / SECRET_FILE_NAME
    try:
        return _read_or_create_secret(path)
    except OSError as error:
        logger.warning(
            "cannot keep the socket.io session secret in %s (%s): using one for this process only, "
            "so widget sessions start afresh after a restart; set CAREERBOT_SESSION_SECRET",
            path,
            error.strerror or type(error).__name__,
        )
        return secrets.token_urlsafe(32).encode("ascii")


def _read_or_create_secret(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written in full under a temporary name, then linked into place: a second
        # process starting at the same moment either wins or reads the winner's.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(32) + "\n")
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
        finally:
            temporary.unlink()
    if path.stat().st_mode & 0o077:
        logger.warning("%s is readable by other users; it should be mode 0600", path)
    secret = path.read_bytes().strip()
    if len(secret) < 16:
        raise OSError(0, "the file holds no usable secret")
    return secret


def message_problem(data: Any, metadata_key: str) -> Optional[str]:
    """Why a user_uttered payload cannot be a turn, or None when it can."""
    if not isinstance(data, dict):
        return "the payload must be an object with 'message' and 'session_id'"
    message = data.get("message")
    if not isinstance(message, str):
        return "'message' must be a string"
    if not message.strip():
        return "'message' is empty"
    if len(message) > MAX_MESSAGE_LENGTH:
        return f"'message' is longer than {MAX_MESSAGE_LENGTH} characters"
    # Newlines and tabs are fine in a message; a NUL or a lone surrogate cannot be stored.
    problem = text_problem(message, "message")
    if problem:
        return problem
    if data.get("session_id") is not None:
        problem = id_problem(data["session_id"], "session_id")
        if problem:
            return problem
    problem = message_id_problem(data.get("message_id"))
    if problem:
        return problem
    raw = data.get(metadata_key)
    # A string is parsed here, not by the socket.io server, whose packet depth check it passed as a string.
    if isinstance(raw, str) and json_too_deep(raw):
        return f"'{metadata_key}' nests JSON more than {MAX_JSON_DEPTH} levels deep"
    metadata = _metadata(data, metadata_key)
    if metadata is None:
        return f"'{metadata_key}' must be an object, or a string holding one in JSON"
    return metadata_problem(metadata, metadata_key)


def _metadata(data: Dict[str, Any], metadata_key: str) -> Optional[Dict[str, Any]]:
    metadata = data.get(metadata_key)
    if metadata is None:
        return {}
    if isinstance(metadata, str):
        try:
            metadata = json.loads(metadata)
        except ValueError:
            return None
    return metadata if isinstance(metadata, dict) else None


def origin_allowed(origin: Optional[str], allowed: List[str]) -> bool:
    # No Origin: not a cross-site browser request, which the socket.io server lets through too.
    return origin is None or "*" in allowed or origin.rstrip("/") in allowed


class CareerSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with server-issued sessions, checked events and the two repairs above."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        SocketEvents(self, self.sio, Settings.from_env(), on_new_message).install(blueprint)
        return blueprint


class SocketEvents:
    """What one channel's socket.io server does with its requests, packets and events, one method each.

    Built by `CareerSocketIOInput.blueprint` on the server Rasa's blueprint made;
    `install` puts the methods in place of Rasa's handlers and the engine's own.
    """

    def __init__(
        self,
        channel: CareerSocketIOInput,
        sio: AsyncServer,
        settings: Settings,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        self.channel = channel
        self.sio = sio
        self.settings = settings
        self.on_new_message = on_new_message
        self.secret = load_session_secret(settings)
        # The conversation each connected socket was confirmed in.
        self.conversations: Dict[str, str] = {}
        # The engine's own handlers, which the checked ones below call once a request or packet passes.
        self.handle_request = sio.eio.handle_request
        self.handle_packet = sio.eio.handlers["message"]

    def install(self, blueprint: Blueprint) -> None:
        sio, namespace = self.sio, self.channel.namespace
        sio.eio.cors_allowed_origins = self.settings.cors_origins
        sio.eio.max_http_buffer_size = self.settings.max_body_bytes
        sio.eio.handle_request = self.checked_request
        sio.eio.on("message", self.checked_packet)

        # Sanic marks a route's handler with attributes, which a bound method cannot take.
        @blueprint.route("/config", methods=["GET"])
        async def config(request: Request) -> HTTPResponse:
            return await self.config(request)

        sio.on("session_request", self.session_request, namespace=namespace)
        sio.on("disconnect", self.disconnect, namespace=namespace)
        sio.on(self.channel.user_message_evt, self.handle_message, namespace=namespace)

    async def checked_request(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        # python-engineio decodes a long-polling POST as UTF-8, and when that fails it logs a
        # traceback, drops the packet without a word and answers 200. Checked here first instead.
        if request.method == "POST" and request.body:
            try:
                request.body.decode("utf-8")
            except UnicodeDecodeError:
                reason = "the packet is not valid UTF-8 text; it was dropped"
                sid = self.sio.manager.sid_from_eio_sid(request.args.get("sid"), self.channel.namespace or "/")
                if sid is not None:
                    await self.refuse(sid, None, reason)
                return response.text(reason, status=400)
        return await self.handle_request(request, *args, **kwargs)

    async def checked_packet(self, eio_sid: str, data: Any) -> Any:
        # python-socketio parses each packet's JSON with Python's recursive parser: 30,000 levels
        # of nesting raised a RecursionError, logged as a traceback, and the packet was dropped
        # without a word. REST's depth limit, checked here first, for every transport.
        # One more level than a REST body: the packet wraps the event's arguments in an array.
        if isinstance(data, str) and json_too_deep(data, MAX_JSON_DEPTH + 1):
            await self.refuse_packet(eio_sid, data, f"the event nests JSON more than {MAX_JSON_DEPTH} levels deep")
            return None
        return await self.handle_packet(eio_sid, data)

    async def refuse_packet(self, eio_sid: str, data: str, reason: str) -> None:
        """The error event (and, if asked for, the ack) for a packet that is not read."""
        head = PACKET_HEAD.match(data)
        namespace = (head and head["namespace"]) or "/"
        sid = self.sio.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is None:
            return
        await self.refuse(sid, head["event"] if head else None, reason)
        if head and head["ack"]:
            ack = self.sio.packet_class(ACK, namespace=namespace, id=int(head["ack"]), data=[{"error": reason}])
            await self.sio.eio.send(eio_sid, ack.encode())

    async def config(self, request: Request) -> HTTPResponse:
        """GET /webhooks/socketio/config: may this page's origin connect, and how long may a message be."""
        allowed = origin_allowed(request.headers.get("origin"), self.settings.cors_origins)
        return response.json(
            {"origin_allowed": allowed, "max_message_length": MAX_MESSAGE_LENGTH},
            headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
        )

    async def refuse(self, sid: Text, event: Optional[str], reason: str) -> Dict[str, str]:
        await self.sio.emit(ERROR_EVENT, {"event": event, "error": reason}, room=sid, namespace=self.channel.namespace)
        return {"error": reason}

    # The event handlers take any arguments: a client may send an event with none or
    # several, and a handler that raises only leaves a traceback in the log.

    async def session_request(self, sid: Text, data: Any = None, *_: Any) -> None:
        claimed = data.get("session_id") if isinstance(data, dict) else None
        problem = None
        if data is not None and not isinstance(data, dict):
            problem = "the payload must be an object with 'session_id'"
        elif claimed is not None and claimed != "":
            problem = id_problem(claimed, "session_id")
        conversation_id = verified_conversation(self.secret, claimed) if claimed and not problem else None
        if conversation_id is None:
            conversation_id = uuid.uuid4().hex
        # Before the first await: each event's handler runs as its own task, and a
        # message the client sends after this request must find the new session.
        previous = self.conversations.get(sid)
        self.conversations[sid] = conversation_id
        namespace = self.channel.namespace
        if self.channel.session_persistence:
            if previous is not None and previous != conversation_id:
                await _maybe_await(self.sio.leave_room(sid, previous, namespace=namespace))
            await _maybe_await(self.sio.enter_room(sid, conversation_id, namespace=namespace))
        if problem:
            await self.refuse(sid, "session_request", f"{problem}; a new session was started")
        await self.sio.emit("session_confirm", issue(self.secret, conversation_id), room=sid, namespace=namespace)

    async def disconnect(self, sid: Text, *_: Any) -> None:
        self.conversations.pop(sid, None)

    async def handle_message(self, sid: Text, data: Any = None, *_: Any) -> Dict[str, Any]:
        """A user_uttered event; the return value is the ack of a client that asked for one."""
        event = self.channel.user_message_evt
        problem = message_problem(data, self.channel.metadata_key)
        if problem:
            return await self.refuse(sid, event, problem)
        if self.channel.session_persistence:
            sender_id = self.conversations.get(sid)
            if sender_id is None:
                return await self.refuse(sid, event, "no session yet: send session_request first")
            # Whatever session_id the message names, it goes to this socket's own conversation.
        else:
            sender_id = sid
        store_failures = internals.track_store_failures()
        # The replies wait until the turn is stored: a turn the store refused is not
        # answered at all, and the client sends it again (REST answers it with a 503).
        held = HeldEmits(self.sio)
        message = UserMessage(
            data["message"],
            SocketIOOutput(cast(Any, held), self.channel.bot_message_evt),
            sender_id,
            input_channel=self.channel.name(),
            message_id=data.get("message_id"),
            metadata=_metadata(data, self.channel.metadata_key),
        )
        once = internals.answer_once(message) if data.get("message_id") else None
        try:
            await self.on_new_message(message)
        except Exception as error:  # whatever failed, the client must hear of it
            logger.error("socket.io turn failed: %s", type(error).__name__, exc_info=self.settings.log_content)
            return await self.refuse(sid, event, "the bot could not answer this message; please try again")
        if store_failures:
            await self.refuse(sid, event, STORE_UNAVAILABLE)
            return {
                "message_id": message.message_id,
                "status": "retry",
                "error": STORE_UNAVAILABLE,
                "retry_after": RETRY_AFTER_S,
            }
        if once is not None and once.conflict:
            return await self.refuse(
                sid, event, "'message_id' was already used in this conversation for another message"
            )
        if once is not None and once.repeated:
            # The first copy's replies, again, to this socket only: the others in the room have them.
            await held.release(room=sid)
            return {"message_id": message.message_id, "status": "duplicate"}
        await held.release()
        return {"message_id": message.message_id, "status": "answered"}


class HeldEmits:
    """Stands in for the socket.io server in a turn's output channel: what it emits waits for release()."""

    def __init__(self, sio: Any) -> None:
        self.sio = sio
        self.held: List[Tuple[Tuple[Any, ...], Dict[str, Any]]] = []

    async def emit(self, *args: Any, **kwargs: Any) -> None:
        self.held.append((args, kwargs))

    async def release(self, room: Optional[str] = None) -> None:
        """Emits what was held, in order; to `room` instead of each emit's own when given."""
        for args, kwargs in self.held:
            await self.sio.emit(*args, **(kwargs if room is None else {**kwargs, "room": room}))
        self.held.clear()


async def _maybe_await(result: Any) -> None:
    # enter_room and leave_room are coroutines from python-socketio 5.10 on, plain calls before.
    if inspect.isawaitable(result):
        await result
