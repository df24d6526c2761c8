"""The widget's socket.io channel against the real Rasa and action servers: who owns a conversation,
and what a malformed event gets.

Each client here is python-socketio's AsyncClient over a WebSocket, sending the
Origin of the demo page, as the widget in a browser does. Replies are waited
for with a deadline; "saw none of the victim's replies" is judged after the
joiner's own later reply has arrived, because one socket's packets arrive in
the order the server sent them.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
import time
from typing import Any, Callable, List, Optional, Tuple

import pytest
import socketio

from bot.channels import socketio as channel
from bot.channels.validation import MAX_MESSAGE_LENGTH, RETRY_AFTER_S, STORE_UNAVAILABLE
from tests.support.polling import until

DEADLINE_S = 90


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


class Visitor:
    """One socket.io client, as the widget on a page would be, recording every event it receives."""

    def __init__(self, servers: Any) -> None:
        self.servers = servers
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: List[Tuple[str, Any]] = []
        for event in ("session_confirm", "bot_uttered", "error"):
            self.sio.on(event, self._recorder(event))

    def _recorder(self, event: str) -> Callable[..., Any]:
        async def record(*args: Any) -> None:
            self.received.append((event, args[0] if args else None))

        return record

    async def connect(self) -> "Visitor":
        await self.sio.connect(
            self.servers.rasa_url,
            transports=["polling"],
            socketio_path="socket.io",
            headers={"Origin": self.servers.widget_url},
            wait_timeout=30,
        )
        return self

    async def wait_for(self, what: str, check: Callable[[], Any]) -> Any:
        def found() -> Any:
            value = check()
            if not value and not self.sio.connected:
                raise AssertionError(f"disconnected while waiting for {what}; received {self.received}")
            return value

        return await until(found, DEADLINE_S, f"{what}; received {self.received}")

    def of(self, event: str) -> List[Any]:
        return [data for name, data in self.received if name == event]

    async def join(self, payload: Any = None, send_payload: bool = True) -> str:
        """session_request; returns the session id of the session_confirm it gets."""
        before = len(self.of("session_confirm"))
        if send_payload:
            await self.sio.emit("session_request", payload)
        else:
            await self.sio.emit("session_request")
        return await self.wait_for(
            "session_confirm", lambda: self.of("session_confirm")[before:] and self.of("session_confirm")[-1]
        )

    def texts(self) -> str:
        return "\n".join(str(data.get("text", "")) for data in self.of("bot_uttered") if isinstance(data, dict))

    async def say(self, message: Any, session_id: Any = "confirmed", wait_text: Optional[str] = None) -> str:
        """user_uttered; waits until a reply containing `wait_text` (or any reply) arrives.

        Returns all replies since."""
        if session_id == "confirmed":
            session_id = self.of("session_confirm")[-1]
        before = len(self.of("bot_uttered"))
        await self.sio.emit("user_uttered", {"message": message, "session_id": session_id})

        def replied() -> Optional[str]:
            new = "\n".join(str(d.get("text", "")) for d in self.of("bot_uttered")[before:] if isinstance(d, dict))
            return new if new and (wait_text is None or wait_text in new) else None

        return await self.wait_for(f"reply to {message!r}", replied)

    async def expect_error(self, event: str, payload: Any, mentions: str) -> str:
        before = len(self.of("error"))
        await self.sio.emit(event, payload)
        errors = await self.wait_for(f"error event for {payload!r}", lambda: self.of("error")[before:])
        error = errors[0]
        assert isinstance(error, dict) and isinstance(error.get("error"), str), error
        assert error.get("event") == event, error
        assert mentions in error["error"], error
        return error["error"]

    async def close(self) -> None:
        # The polling transport's disconnect waits for the pending long poll, up to
        # the 25 s ping interval: end the connection without waiting (the server
        # sees the close packet); asyncio.run cancels what is left.
        if self.sio.eio.state == "connected":
            await self.sio.eio.disconnect(abort=True)


def conversation(session_id: str) -> str:
    """The tracker's conversation id inside a session id the server issued (<conversation>.<token>)."""
    return session_id.split(".", 1)[0]


def stored_user_texts(servers: Any, sender_id: str) -> List[str]:
    with sqlite3.connect(str(servers.settings.sqlite_path)) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender_id,))
        return [json.loads(data).get("text") for (data,) in rows]


def stored_sender_ids(servers: Any) -> List[str]:
    with sqlite3.connect(str(servers.settings.sqlite_path)) as db:
        return [row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")]


async def stored(servers: Any, sender_id: str, texts: List[str]) -> None:
    """Waits until the conversation holds exactly these user messages: Rasa saves a turn after it replies."""
    await until(
        lambda: stored_user_texts(servers, sender_id) == texts,
        DEADLINE_S,
        f"the store holds {texts} (it holds {stored_user_texts(servers, sender_id)})",
    )


def rasa_log(servers: Any) -> str:
    return (servers.log_dir / "rasa.log").read_text(encoding="utf-8", errors="replace")


# --- Ownership ----------------------------------------------------------------------


def test_joining_with_someone_elses_id_is_refused(servers):
    """The finding: a joiner who sent the victim's session id saw every later reply of the victim's."""

    async def scenario() -> None:
        victim = await Visitor(servers).connect()
        joiner = await Visitor(servers).connect()
        try:
            victim_session = await victim.join({"session_id": None})
            await victim.say("how much do they earn?", wait_text="$59,000 to $87,000")

            # The id without its token, and with a wrong one: neither joins the victim's conversation.
            key = conversation(victim_session)
            wrong_token = key + "." + "A" * (len(victim_session) - len(key) - 1)
            for stolen in (key, wrong_token):
                joined = await joiner.join({"session_id": stolen})
                assert conversation(joined) != key

            await victim.say("what are the working hours?", wait_text="9am to 5pm")
            # The joiner's own reply comes after anything sent to its socket before it.
            await joiner.say("do I need a license?", wait_text="License")
            assert "9am to 5pm" not in joiner.texts()
            assert "$59,000" not in joiner.texts()

            # A message the joiner addresses to the victim's conversation stays in the joiner's own.
            replies_before = len(victim.of("bot_uttered"))
            await joiner.say("what is the job outlook?", session_id=key)
            await joiner.say("what should I study?", session_id=victim_session)
            await victim.say("what about in Ohio?", wait_text="Ohio")
            await stored(
                servers,
                conversation(joiner.of("session_confirm")[-1]),
                ["do I need a license?", "what is the job outlook?", "what should I study?"],
            )
            await stored(servers, key, ["how much do they earn?", "what are the working hours?", "what about in Ohio?"])
            # The victim saw only replies to its own messages: the Ohio answer, nothing about study or outlook.
            later = "\n".join(d.get("text", "") for d in victim.of("bot_uttered")[replies_before:])
            assert "Ohio" in later and "Business, Finance" not in later
        finally:
            await victim.close()
            await joiner.close()

    run(scenario())


def test_a_client_chosen_id_is_replaced_and_the_client_can_chat(servers):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            session = await visitor.join({"session_id": "me"})
            assert conversation(session) != "me"
            assert await visitor.say("how much do they earn?", wait_text="$59,000 to $87,000")
            await stored(servers, conversation(session), ["how much do they earn?"])
            assert "me" not in stored_sender_ids(servers)
        finally:
            await visitor.close()

    run(scenario())


def test_id_with_its_token_rejoins_and_keeps_the_context(servers):
    async def scenario() -> None:
        first = await Visitor(servers).connect()
        session = await first.join({"session_id": None})
        await first.say("how much do they earn?", wait_text="$59,000 to $87,000")
        await first.close()

        again = await Visitor(servers).connect()
        try:
            assert await again.join({"session_id": session}) == session
            # "and the managers?" is only understood in the context of the pay question.
            await again.say("and the managers?", wait_text="Loan managers earn $59,000 to $87,000 a year.")
        finally:
            await again.close()

    run(scenario())


def test_two_tabs_with_the_same_session_both_see_the_replies(servers):
    async def scenario() -> None:
        tab1 = await Visitor(servers).connect()
        tab2 = await Visitor(servers).connect()
        try:
            session = await tab1.join({"session_id": None})
            assert await tab2.join({"session_id": session}) == session
            await tab1.say("what are the working hours?", wait_text="9am to 5pm")
            await tab2.wait_for("the reply in the other tab", lambda: "9am to 5pm" in tab2.texts())
        finally:
            await tab1.close()
            await tab2.close()

    run(scenario())


def test_the_token_is_an_hmac_of_the_conversation_id_under_the_persisted_secret(servers):
    """Unset CAREERBOT_SESSION_SECRET: one secret in var/ next to the SQLite store, owner-only."""
    path = servers.settings.sqlite_path.parent / channel.SECRET_FILE_NAME

    async def scenario() -> str:
        visitor = await Visitor(servers).connect()
        try:
            return await visitor.join({"session_id": None})
        finally:
            await visitor.close()

    session = run(scenario())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key, token = session.split(".")
    assert token == channel.session_token(path.read_bytes().strip(), key)


# --- Malformed events -------------------------------------------------------------------

BAD_SESSION_IDS = [
    pytest.param("x\udc00", "valid UTF-8", id="lone-surrogate"),
    pytest.param("x\x00y", "control characters", id="nul"),
    pytest.param("x\x07y", "control characters", id="bell"),
    pytest.param("x" * 300, "longer than", id="300-chars"),
    pytest.param(5, "non-empty string", id="number"),
    pytest.param({"id": "x"}, "non-empty string", id="object"),
    pytest.param("   ", "non-empty string", id="blank"),
]


@pytest.mark.parametrize("session_id, mentions", BAD_SESSION_IDS)
def test_a_bad_session_id_gets_an_error_event_and_a_fresh_session(servers, session_id, mentions):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            await visitor.expect_error("session_request", {"session_id": session_id}, mentions)
            session = await visitor.wait_for("a fresh session", lambda: visitor.of("session_confirm"))
            session = session[-1]
            assert await visitor.say("what are the working hours?", wait_text="9am to 5pm")
            await stored(servers, conversation(session), ["what are the working hours?"])
            if isinstance(session_id, str):
                assert session_id not in stored_sender_ids(servers)
        finally:
            await visitor.close()

    run(scenario())


def test_a_session_request_that_is_not_an_object_gets_an_error_event_and_a_session(servers):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            await visitor.expect_error("session_request", "my-session", "must be an object")
            await visitor.wait_for("a fresh session", lambda: visitor.of("session_confirm"))
            assert await visitor.say("what are the working hours?", wait_text="9am to 5pm")
        finally:
            await visitor.close()

    run(scenario())


def test_a_message_right_after_a_new_session_request_goes_to_the_new_session(servers):
    """Each event is handled in its own task: the switch must be in place before the next message is read."""

    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            first = await visitor.join({"session_id": None})
            await visitor.sio.emit("session_request", {"session_id": "me"})
            await visitor.sio.emit("user_uttered", {"message": "what are the working hours?", "session_id": first})
            await visitor.wait_for("the reply", lambda: "9am to 5pm" in visitor.texts())
            second = visitor.of("session_confirm")[-1]
            assert second != first
            await stored(servers, conversation(second), ["what are the working hours?"])
            assert stored_user_texts(servers, conversation(first)) == []
        finally:
            await visitor.close()

    run(scenario())


BAD_MESSAGES = [
    pytest.param({"message": "", "session_id": None}, "'message' is empty", id="empty"),
    pytest.param({"message": "   ", "session_id": None}, "'message' is empty", id="blank"),
    pytest.param({"message": None, "session_id": None}, "'message' must be a string", id="null"),
    pytest.param({"session_id": None}, "'message' must be a string", id="missing"),
    pytest.param({"message": 42, "session_id": None}, "'message' must be a string", id="number"),
    pytest.param({"message": {"text": "hi"}, "session_id": None}, "'message' must be a string", id="object"),
    pytest.param({"message": ["hi"], "session_id": None}, "'message' must be a string", id="list"),
    pytest.param(
        {"message": "x" * (MAX_MESSAGE_LENGTH + 1), "session_id": None},
        f"longer than {MAX_MESSAGE_LENGTH}",
        id="too-long",
    ),
    pytest.param({"message": "hi\udc00", "session_id": None}, "valid UTF-8", id="lone-surrogate"),
    pytest.param({"message": "hi\x00", "session_id": None}, "valid UTF-8", id="nul"),
    pytest.param({"message": "hi", "session_id": "x\udc00"}, "'session_id'", id="bad-session-id"),
    pytest.param({"message": "hi", "session_id": None, "metadata": "{not json"}, "'metadata'", id="bad-metadata"),
    pytest.param({"message": "hi", "session_id": None, "metadata": [1]}, "'metadata'", id="list-metadata"),
    pytest.param({"message": b"hi", "session_id": None}, "'message' must be a string", id="binary"),
    pytest.param({"message": b"\xff\xfe", "session_id": None}, "'message' must be a string", id="binary-not-utf8"),
    pytest.param({"message": "hi", "message_id": "short"}, "'message_id'", id="short-message-id"),
    pytest.param({"message": "hi", "message_id": 12345678}, "'message_id'", id="number-message-id"),
    pytest.param({"message": "hi", "message_id": "abcdefgh\n"}, "'message_id'", id="newline-message-id"),
    # Every string of the metadata is checked as the message is (these were stored as they came).
    pytest.param(
        {"message": "hi", "metadata": {"context": "x\udc00"}},
        "'metadata.context' must be valid UTF-8",
        id="metadata-lone-surrogate",
    ),
    pytest.param(
        {"message": "hi", "metadata": {"a": [{"b": "\x00"}]}},
        "'metadata.a[0].b' must be valid UTF-8",
        id="metadata-nul-in-a-list",
    ),
    pytest.param({"message": "hi", "metadata": {"\ud800": 1}}, "a key in 'metadata'", id="metadata-key"),
    pytest.param(
        {"message": "hi", "metadata": json.dumps({"context": "x\udc00"})},
        "'metadata.context'",
        id="metadata-json-string",
    ),
    pytest.param(
        {"message": "hi", "metadata": "[" * 30_000 + "]" * 30_000},
        "nests JSON more than 16 levels",
        id="metadata-json-string-too-deep",
    ),
    pytest.param("hi", "must be an object", id="not-an-object"),
    pytest.param(None, "must be an object", id="nothing"),
]


@pytest.mark.parametrize("payload, mentions", BAD_MESSAGES)
def test_a_malformed_user_uttered_gets_an_error_event_and_the_server_keeps_serving(servers, payload, mentions):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            session = await visitor.join({"session_id": None})
            await visitor.expect_error("user_uttered", payload, mentions)
            assert await visitor.say("what are the working hours?", wait_text="9am to 5pm")
            await stored(servers, conversation(session), ["what are the working hours?"])
        finally:
            await visitor.close()

    run(scenario())
    assert "Task exception was never retrieved" not in rasa_log(servers)
    assert "Traceback" not in rasa_log(servers)


def test_a_malformed_user_uttered_gets_the_error_as_its_ack_too(servers):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            await visitor.join({"session_id": None})
            ack = await visitor.sio.call("user_uttered", {"message": 42}, timeout=DEADLINE_S)
            assert ack == {"error": "'message' must be a string"}
        finally:
            await visitor.close()

    run(scenario())


def engineio_polling_session(servers: Any) -> Tuple[Any, str]:
    """A socket.io connection made by hand over HTTP long-polling, so a test can post raw bytes."""
    import requests

    http = requests.Session()
    http.headers["Origin"] = servers.widget_url
    url = f"{servers.rasa_url}/socket.io/?EIO=4&transport=polling"
    handshake = http.get(url, timeout=30)
    assert handshake.status_code == 200 and handshake.text.startswith("0"), handshake.text
    sid = json.loads(handshake.text[1:])["sid"]
    assert http.post(f"{url}&sid={sid}", data=b"40", timeout=30).status_code == 200
    assert http.get(f"{url}&sid={sid}", timeout=30).text.startswith("40")
    return http, f"{url}&sid={sid}"


def test_a_packet_that_is_not_utf8_gets_an_error_event_and_the_server_keeps_serving(servers):
    """Bytes that are not UTF-8 cannot be read as any event: the POST is refused, the error event
    comes with the next poll, the connection stays usable, and nothing is logged as unhandled."""
    http, url = engineio_polling_session(servers)
    for body in (b'42["session_request",{"session_id":"\xff\xfe"}]', b'42["user_uttered",{"message":"\xc3\x28"}]'):
        refused = http.post(url, data=body, timeout=30)
        assert refused.status_code == 400
        assert refused.text == "the packet is not valid UTF-8 text; it was dropped"
        polled = http.get(url, timeout=30).text
        assert '42["error",{"event":null,"error":"the packet is not valid UTF-8 text; it was dropped"}]' in polled
    # The same connection goes on: a session is still granted.
    assert http.post(url, data=b'42["session_request",{"session_id":null}]', timeout=30).status_code == 200
    assert '42["session_confirm"' in http.get(url, timeout=30).text

    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            await visitor.join({"session_id": None})
            assert await visitor.say("what are the working hours?", wait_text="9am to 5pm")
        finally:
            await visitor.close()

    run(scenario())
    assert "Task exception was never retrieved" not in rasa_log(servers)
    assert "Traceback" not in rasa_log(servers)


def test_a_websocket_text_frame_that_is_not_utf8_closes_that_connection_with_1007(servers):
    """RFC 6455: invalid UTF-8 in a text frame fails the connection with 1007 (invalid payload data)."""
    import websockets
    from websockets.frames import OP_TEXT

    async def scenario() -> None:
        port = servers.settings.rasa_port
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", origin=servers.widget_url
        ) as ws:
            assert (await asyncio.wait_for(ws.recv(), DEADLINE_S)).startswith("0")
            await ws.send("40")
            assert (await asyncio.wait_for(ws.recv(), DEADLINE_S)).startswith("40")
            await ws.write_frame(True, OP_TEXT, b'42["user_uttered",{"message":"\xc3\x28"}]')
            with pytest.raises(websockets.ConnectionClosedError) as closed:
                await asyncio.wait_for(ws.recv(), DEADLINE_S)
            assert closed.value.rcvd.code == 1007
        other = await Visitor(servers).connect()
        try:
            await other.join({"session_id": None})
            assert await other.say("what are the working hours?", wait_text="9am to 5pm")
        finally:
            await other.close()

    run(scenario())
    assert "Task exception was never retrieved" not in rasa_log(servers)
    assert "Traceback" not in rasa_log(servers)


DEEP = "[" * 30_000 + "]" * 30_000  # 60 kB: under the packet size limit


async def frames_until(ws: Any, wanted: Callable[[str], bool]) -> List[str]:
    """The text frames a raw socket.io WebSocket receives until one is `wanted` (pings answered)."""
    frames: List[str] = []
    deadline = time.monotonic() + DEADLINE_S
    while not (frames and wanted(frames[-1])):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"not within {DEADLINE_S} s: the frame waited for; received {frames}")
        try:
            frame = await asyncio.wait_for(ws.recv(), left)
        except asyncio.TimeoutError:
            raise AssertionError(f"not within {DEADLINE_S} s: the frame waited for; received {frames}") from None
        if frame == "2":
            await ws.send("3")
            continue
        frames.append(frame)
    return frames


def test_deep_json_in_a_packet_gets_an_error_event_and_its_ack_and_the_connection_goes_on(servers):
    """The finding: 30,000 levels of nesting logged a RecursionError and the packet was dropped without a word."""
    import websockets

    reason = "the event nests JSON more than 16 levels deep"

    async def scenario() -> None:
        port = servers.settings.rasa_port
        async with websockets.connect(
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket", origin=servers.widget_url, max_size=None
        ) as ws:
            assert (await asyncio.wait_for(ws.recv(), DEADLINE_S)).startswith("0")
            await ws.send("40")
            assert (await asyncio.wait_for(ws.recv(), DEADLINE_S)).startswith("40")
            await ws.send('42["session_request",{"session_id":null}]')
            session = json.loads((await frames_until(ws, lambda f: "session_confirm" in f))[-1][2:])[1]
            # Ack id 7: the client asked for an acknowledgement, and gets the error as it.
            await ws.send('427["user_uttered",{"message":"hi","metadata":' + DEEP + "}]")
            frames = await frames_until(ws, lambda f: f.startswith("437"))
            assert '42["error",{"event":"user_uttered","error":"' + reason + '"}]' in frames
            assert frames[-1] == '437[{"error":"' + reason + '"}]'
            # No event name to be read: the error event says null.
            await ws.send("42" + DEEP)
            frames = await frames_until(ws, lambda f: f.startswith('42["error"'))
            assert frames[-1] == '42["error",{"event":null,"error":"' + reason + '"}]'
            # The same connection goes on.
            await ws.send('428["user_uttered",{"message":"what are the working hours?"}]')
            frames = await frames_until(ws, lambda f: f.startswith("438"))
            assert any("9am to 5pm" in frame for frame in frames)
            await stored(servers, conversation(session), ["what are the working hours?"])

    run(scenario())
    assert "RecursionError" not in rasa_log(servers)
    assert "Traceback" not in rasa_log(servers)


def test_deep_json_over_long_polling_gets_an_error_event_too(servers):
    http, url = engineio_polling_session(servers)
    assert (
        http.post(
            url, data=('42["user_uttered",{"message":"hi","metadata":' + DEEP + "}]").encode(), timeout=30
        ).status_code
        == 200
    )
    polled = http.get(url, timeout=30).text
    assert '42["error",{"event":"user_uttered","error":"the event nests JSON more than 16 levels deep"}]' in polled
    assert "RecursionError" not in rasa_log(servers)


# --- Never twice --------------------------------------------------------------------


def test_a_message_sent_again_with_its_id_is_answered_once_and_its_replies_repeated(servers):
    """The widget's outbox sends a message again when it did not see the ack (a reload, a lost connection)."""

    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            session = await visitor.join({"session_id": None})
            payload = {"message": "what are the working hours?", "message_id": "outbox-0001"}
            ack = await visitor.sio.call("user_uttered", payload, timeout=DEADLINE_S)
            assert ack == {"message_id": "outbox-0001", "status": "answered"}
            await visitor.wait_for("the reply", lambda: "9am to 5pm" in visitor.texts())
            await stored(servers, conversation(session), ["what are the working hours?"])
            await visitor.close()

            # A reload: a new connection with the same session sends the same message again.
            again = await Visitor(servers).connect()
            try:
                await again.join({"session_id": session})
                ack = await again.sio.call("user_uttered", payload, timeout=DEADLINE_S)
                assert ack == {"message_id": "outbox-0001", "status": "duplicate"}
                await again.wait_for("the first reply, again", lambda: "9am to 5pm" in again.texts())
                # A new message is still answered as usual, in the same conversation.
                await again.say("and the managers' pay?", wait_text="$59,000")
                await stored(servers, conversation(session), ["what are the working hours?", "and the managers' pay?"])
            finally:
                await again.close()
        finally:
            await visitor.close()

    run(scenario())


def test_two_copies_sent_at_once_are_answered_once(servers):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            session = await visitor.join({"session_id": None})
            payload = {"message": "what do they do?", "message_id": "outbox-0002"}
            acks = await asyncio.gather(
                *(visitor.sio.call("user_uttered", payload, timeout=DEADLINE_S) for _ in range(3))
            )
            assert sorted(ack["status"] for ack in acks) == ["answered", "duplicate", "duplicate"]
            await stored(servers, conversation(session), ["what do they do?"])
        finally:
            await visitor.close()

    run(scenario())


def test_a_message_id_counts_only_in_its_own_conversation(servers):
    async def scenario() -> None:
        first = await Visitor(servers).connect()
        second = await Visitor(servers).connect()
        try:
            await first.join({"session_id": None})
            await second.join({"session_id": None})
            payload = {"message": "what are the working hours?", "message_id": "same-id-in-two"}
            assert (await first.sio.call("user_uttered", payload, timeout=DEADLINE_S))["status"] == "answered"
            assert (await second.sio.call("user_uttered", payload, timeout=DEADLINE_S))["status"] == "answered"
        finally:
            await first.close()
            await second.close()

    run(scenario())


def test_a_turn_the_store_cannot_save_is_not_acknowledged_as_answered_and_is_answered_once_sent_again(servers):
    """The finding: with the store locked by another process, the ack said "answered" although
    nothing was stored, so the widget dropped the message and the turn was missing from history."""
    database = str(servers.settings.sqlite_path)

    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            session = await visitor.join({"session_id": None})
            # Also makes the tables if this test runs alone.
            await visitor.say("what do they do?")
            await stored(servers, conversation(session), ["what do they do?"])
            payload = {"message": "what are the working hours?", "message_id": "locked-0001"}
            replies_before = len(visitor.of("bot_uttered"))
            holder = sqlite3.connect(database, isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")  # no other connection may write until this ends
            try:
                ack = await visitor.sio.call("user_uttered", payload, timeout=DEADLINE_S)
            finally:
                holder.execute("ROLLBACK")
                holder.close()
            assert ack == {
                "message_id": "locked-0001",
                "status": "retry",
                "error": STORE_UNAVAILABLE,
                "retry_after": RETRY_AFTER_S,
            }
            # Like REST's 503: no replies from a turn that is not stored (they come before the ack).
            assert visitor.of("bot_uttered")[replies_before:] == []
            assert stored_user_texts(servers, conversation(session)) == ["what do they do?"]

            # Sent again once the lock is gone: answered and stored, once.
            ack = await visitor.sio.call("user_uttered", payload, timeout=DEADLINE_S)
            assert ack == {"message_id": "locked-0001", "status": "answered"}
            assert "9am to 5pm" in visitor.texts()
            ack = await visitor.sio.call("user_uttered", payload, timeout=DEADLINE_S)
            assert ack == {"message_id": "locked-0001", "status": "duplicate"}
            await stored(servers, conversation(session), ["what do they do?", "what are the working hours?"])
        finally:
            await visitor.close()

    run(scenario())


def test_a_message_id_sent_again_with_another_text_is_refused(servers):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            session = await visitor.join({"session_id": None})
            ack = await visitor.sio.call(
                "user_uttered", {"message": "what do they do?", "message_id": "reused-001"}, timeout=DEADLINE_S
            )
            assert ack["status"] == "answered"
            ack = await visitor.sio.call(
                "user_uttered", {"message": "what is the pay?", "message_id": "reused-001"}, timeout=DEADLINE_S
            )
            assert ack == {"error": "'message_id' was already used in this conversation for another message"}
            await stored(servers, conversation(session), ["what do they do?"])
        finally:
            await visitor.close()

    run(scenario())


# --- What a page may ask before it connects ------------------------------------------


@pytest.mark.parametrize("origin, allowed", [("widget", True), ("http://127.0.0.1:9", False), (None, True)])
def test_the_config_says_whether_the_origin_is_allowed_and_the_length_limit(servers, origin, allowed):
    import requests

    headers = {"Origin": servers.widget_url if origin == "widget" else origin} if origin else {}
    answer = requests.get(f"{servers.rasa_url}/webhooks/socketio/config", headers=headers, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert answer.json() == {"origin_allowed": allowed, "max_message_length": MAX_MESSAGE_LENGTH}


def test_a_message_before_any_session_gets_an_error_event(servers):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            await visitor.expect_error("user_uttered", {"message": "hi", "session_id": "me"}, "session_request")
            await visitor.join({"session_id": None})
            assert await visitor.say("what are the working hours?", wait_text="9am to 5pm")
        finally:
            await visitor.close()
        assert "me" not in stored_sender_ids(servers)

    run(scenario())


def test_a_session_request_without_arguments_gets_a_session(servers):
    async def scenario() -> None:
        visitor = await Visitor(servers).connect()
        try:
            session = await visitor.join(send_payload=False)
            assert await visitor.say("what are the working hours?", wait_text="9am to 5pm")
            await stored(servers, conversation(session), ["what are the working hours?"])
        finally:
            await visitor.close()

    run(scenario())


def test_an_oversized_packet_closes_only_that_connection(servers):
    """socket.io packets are capped at CAREERBOT_MAX_BODY_BYTES, as REST bodies are."""

    async def scenario() -> None:
        flooder = await Visitor(servers).connect()
        other = await Visitor(servers).connect()
        try:
            await flooder.join({"session_id": None})
            await other.join({"session_id": None})
            await flooder.sio.emit("user_uttered", {"message": "x" * (servers.settings.max_body_bytes + 1)})
            await until(lambda: not flooder.sio.connected, DEADLINE_S, "the flooding client is disconnected")
            assert await other.say("what are the working hours?", wait_text="9am to 5pm")
        finally:
            await flooder.close()
            await other.close()

    run(scenario())
