"""The handoff e-mail over TLS, against a real aiosmtpd server on 127.0.0.1.

Both ways CAREERBOT_HANDOFF_SMTP_URL asks for TLS: smtps:// (TLS from the
first byte) and smtp://...?starttls=true (upgraded after EHLO, the server
refusing mail before). The certificates come from a CA made here with the
openssl CLI; the client trusts it only through SSL_CERT_FILE, which
ssl.create_default_context() reads, so a run without it shows that
send_email verifies the server's certificate rather than skipping the check.
"""

from __future__ import annotations

import ssl
import subprocess
import time
from pathlib import Path

import pytest

from bot.handoff.delivery import PermanentError, send_email
from bot.handoff.outbox import Handoff
from bot.settings import HandoffDelivery
from tests.support.mail import Inbox, SmtpServer

TO, FROM = "team@careers.example.com", "bot@careers.example.com"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def server_cert(directory: Path, name: str, san: str) -> ssl.SSLContext:
    """A certificate signed by the CA in ``directory``, in a server-side context."""
    (directory / f"{name}.ext").write_text(
        f"subjectAltName={san}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=directory)
    openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=directory,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(directory / f"{name}.pem", directory / f"{name}.key")
    return context


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=careerbot test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=directory,
    )  # fmt: skip
    return {
        "ca": directory / "ca.pem",
        "loopback": server_cert(directory, "localhost", "IP:127.0.0.1,DNS:localhost"),
        # Signed by the same trusted CA, for a name that is not the one the client dials.
        "elsewhere": server_cert(directory, "mail.elsewhere.example", "DNS:mail.elsewhere.example"),
    }


@pytest.fixture
def trust_ca(pki, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(pki["ca"]))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)


@pytest.fixture
def smtp_server(free_ports):
    started = []

    def start(**tls):
        server = SmtpServer(Inbox(), free_ports(), **tls).start()
        started.append(server)
        return server.inbox, server.port

    yield start
    for server in started:
        server.stop()


def smtp_url_server(url: str):
    """The SmtpServer that the settings make of this CAREERBOT_HANDOFF_SMTP_URL."""
    env = {"CAREERBOT_HANDOFF_SMTP_URL": url, "CAREERBOT_HANDOFF_EMAIL_TO": TO, "CAREERBOT_HANDOFF_EMAIL_FROM": FROM}
    return HandoffDelivery.from_env(env).smtp


def handoff() -> Handoff:
    return Handoff(
        id="tls-1",
        sender_id="visitor",
        created_at=time.time(),
        status="pending",
        email="ann@visitors.example.org",
        question="Is the exam hard?",
        topic="licensing",
        channel="rest",
        route="our careers team",
        transcript=[{"from": "visitor", "text": "do I need a license?", "at": time.time()}],
    )


def assert_delivered_over_tls(inbox: Inbox) -> None:
    [mail] = inbox.mails
    message = mail.message
    assert mail.cipher is not None
    assert mail.recipients == [TO] and message["To"] == TO
    assert handoff().question in message.get_content()
    assert "do I need a license?" in message.get_content()
    assert message["Reply-To"] == "ann@visitors.example.org"


def test_smtps_delivers_when_the_certificate_is_trusted(pki, trust_ca, smtp_server):
    inbox, port = smtp_server(ssl_context=pki["loopback"])
    server = smtp_url_server(f"smtps://127.0.0.1:{port}")
    assert server.tls and not server.starttls
    send_email(server, FROM, (TO,), handoff())
    assert_delivered_over_tls(inbox)


def test_starttls_delivers_when_the_certificate_is_trusted(pki, trust_ca, smtp_server):
    inbox, port = smtp_server(tls_context=pki["loopback"], require_starttls=True)
    server = smtp_url_server(f"smtp://127.0.0.1:{port}?starttls=true")
    assert server.starttls and not server.tls
    send_email(server, FROM, (TO,), handoff())
    assert_delivered_over_tls(inbox)


def test_the_starttls_server_takes_no_mail_in_clear(pki, trust_ca, smtp_server):
    # The same server without ?starttls=true: it answers MAIL with 530, so the
    # test above could only have passed by upgrading the connection.
    inbox, port = smtp_server(tls_context=pki["loopback"], require_starttls=True)
    with pytest.raises(PermanentError, match="530"):
        send_email(smtp_url_server(f"smtp://127.0.0.1:{port}"), FROM, (TO,), handoff())
    assert inbox.mails == []


def tls_server(smtp_server, mode: str, context: ssl.SSLContext):
    """A server with this certificate, TLS from the first byte (smtps) or after STARTTLS; its inbox and URL."""
    if mode == "smtps":
        inbox, port = smtp_server(ssl_context=context)
        return inbox, f"smtps://127.0.0.1:{port}"
    inbox, port = smtp_server(tls_context=context, require_starttls=True)
    return inbox, f"smtp://127.0.0.1:{port}?starttls=true"


@pytest.mark.parametrize("mode", ["smtps", "starttls"])
def test_an_untrusted_certificate_is_refused(pki, monkeypatch, smtp_server, mode):
    # The system's CAs only: they do not include the test CA.
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    inbox, url = tls_server(smtp_server, mode, pki["loopback"])
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        send_email(smtp_url_server(url), FROM, (TO,), handoff())
    assert inbox.mails == []


@pytest.mark.parametrize("mode", ["smtps", "starttls"])
def test_a_trusted_certificate_for_another_host_is_refused(pki, trust_ca, smtp_server, mode):
    inbox, url = tls_server(smtp_server, mode, pki["elsewhere"])
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        send_email(smtp_url_server(url), FROM, (TO,), handoff())
    assert inbox.mails == []
