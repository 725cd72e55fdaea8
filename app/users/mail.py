"""Sending the invitation and reset mails through ``VERBONDEN_SMTP_URL``.

``smtp://[user:password@]host[:port][?starttls=true]`` speaks plain SMTP (port 25 by default),
upgraded with STARTTLS when asked; ``smtps://host[:port]`` speaks SMTP over TLS (port 465). Login
happens when the URL holds a user. The text of each mail lives in ``templates/users/mail_*.txt``.
Nothing of the mail (address, link) is logged.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

import jinja2
from sqlalchemy.engine import make_url

from app.config import Settings
from app.templates import TEMPLATES_DIR

logger = logging.getLogger("verbonden.mail")
SMTP_TIMEOUT_SECONDS = 20
# Plain text, not HTML: no escaping (a name like O'Brien stays as it is).
_texts = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR / "users"),
    autoescape=False,  # noqa: S701 - plain-text mail, never rendered as HTML
    keep_trailing_newline=True,
)


class MailNotConfigured(RuntimeError):
    """``VERBONDEN_SMTP_URL`` is not set: the caller shows the link instead."""


def render(template: str, **values: object) -> tuple[str, str]:
    """(subject, body) of a mail template; its first line is the subject."""
    text = _texts.get_template(template).render(**values)
    subject, _, body = text.partition("\n")
    return subject.removeprefix("Subject:").strip(), body.lstrip("\n")


def send(settings: Settings, *, to: str, subject: str, body: str) -> None:
    if not settings.smtp_url:
        raise MailNotConfigured("VERBONDEN_SMTP_URL is not set")
    url = make_url(settings.smtp_url)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=url.host)
    message.set_content(body)
    context = ssl.create_default_context()
    host = url.host or "localhost"
    if url.drivername == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, url.port or 465, timeout=SMTP_TIMEOUT_SECONDS, context=context
        )
    else:
        client = smtplib.SMTP(host, url.port or 25, timeout=SMTP_TIMEOUT_SECONDS)
    with client:
        if url.drivername == "smtp" and str(url.query.get("starttls", "")).lower() in ("1", "true", "yes"):
            client.starttls(context=context)
        if url.username:
            client.login(url.username, url.password or "")
        client.send_message(message)


def send_link(settings: Settings, *, to: str, name: str, url: str, purpose: str, lang: str = "nl") -> None:
    """Send an invitation (``invite``) or reset (``reset``) mail with its one-time link.

    Meant to run after the response (a background task): a failure is logged, without the
    address or the link, and the person can ask again.
    """
    subject, body = render(f"mail_{purpose}.txt", name=name, url=url, lang=lang)
    try:
        send(settings, to=to, subject=subject, body=body)
    except MailNotConfigured:
        logger.warning("%s mail not sent: VERBONDEN_SMTP_URL is not set", purpose)
    except OSError as exc:  # smtplib's errors are OSErrors too
        logger.error("%s mail not sent: %s", purpose, type(exc).__name__)
