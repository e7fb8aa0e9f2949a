"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and the
certificates it presents: a private certificate authority and a server certificate for
localhost and 127.0.0.1 it signed, made with `cryptography`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclasses.dataclass(frozen=True)
class Certificates:
    ca_file: Path  # the authority, for SMTP_CA_FILE
    cert_file: Path  # the server's certificate
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


def make_certificates(folder: Path) -> Certificates:
    now = dt.datetime.now(dt.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mail test authority")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
              .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                          x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    made = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server-key.pem")
    made.ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    made.cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    made.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return made


@dataclasses.dataclass(frozen=True)
class Received:
    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    over_tls: bool
    signed_in_as: str | None


class Mailbox:
    """The server's handler: keeps each accepted message; can refuse recipients, or answer
    the first DATA commands with replies of the test's choosing before accepting."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refused_recipients: dict[str, str] = {}  # address -> reply
        self.rcpt_replies: list[str] = []  # answered, one per RCPT, before accepting
        self.data_replies: list[str] = []  # answered, one per DATA, before accepting
        self.data_attempts = 0
        self.smtputf8 = True  # offers addresses beyond ASCII (SMTPUTF8)

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname  # what aiosmtpd does without this hook
        if self.smtputf8:
            return responses
        kept = [line[4:] for line in responses if "SMTPUTF8" not in line]
        return [f"250-{line}" for line in kept[:-1]] + [f"250 {kept[-1]}"]

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused_recipients:
            return self.refused_recipients[address]
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_attempts += 1
        if self.data_replies:
            return self.data_replies.pop(0)
        content = envelope.original_content or envelope.content
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        # After STARTTLS the session says so; with TLS from the start, the connection does.
        over_tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.received.append(Received(
            message=email.message_from_bytes(content, policy=email.policy.default),
            mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos), over_tls=over_tls,
            signed_in_as=login))
        return "250 Message accepted for delivery"


def password_check(user: str, password: str):
    """An aiosmtpd authenticator accepting one user name and password."""

    def authenticate(server, session, envelope, mechanism, auth_data):
        valid = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
                 and auth_data.password == password.encode())
        return AuthResult(success=valid, handled=False, auth_data=auth_data if valid else None)

    return authenticate


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(mailbox: Mailbox, port: int, **smtp_options) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **smtp_options)
    controller.start()
    return controller
