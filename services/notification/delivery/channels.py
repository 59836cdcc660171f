"""Sending one message over one channel (N5): e-mail over SMTP, WeCom and DingTalk group
robots in their documented formats, Standard Webhooks for other systems, and a notice by SMS
to the person it is addressed to (shared/sms.py: Alibaba Cloud or Tencent Cloud SMS).

Transport timestamps (webhook and DingTalk signatures) use the wall clock: the receiver checks
them against its own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote_plus

import aiosmtplib
import httpx
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared import zh
from shared.sms import SmsGateway


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAI_", extra="ignore")

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "gongkai@localhost"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = False
    public_url: str | None = None  # the board's address, for links in messages
    scheduler_interval: float = 30.0  # seconds between reminder passes
    delivery_interval: float = 2.0  # seconds between delivery passes


class DeliveryFailed(Exception):
    pass


def text_of(release_type: str, subject: str, content: dict[str, Any]) -> str:
    """A short, readable Chinese text of what is delivered."""
    if release_type in ("reminder", "overdue", "returned"):
        return str(content["body"])
    if release_type == "pledge_published":
        lines = [f"承诺书编号：{content.get('letter_no')}"]
        lines += [
            f"- {i['title']}（目标：{i['target']}，时限：{zh.day(i['due_date'])}）"
            for i in content.get("items", [])
        ]
        return "\n".join(lines)
    if release_type == "item_closed":
        return f"{content['title']} 已销号：" + "；".join(content.get("closing_reasons", []))
    if release_type == "bulletin":
        lines = [
            f"- {b['branch_name']}：承诺{b['pledges_published']}份，点评{b['reviews_held']}次，"
            f"纪实讲评{b['journals_presented']}人，指导{b['guidance_visits']}次"
            + (f"；问题：{'、'.join(b['gaps'])}" if b["gaps"] else "")
            for b in content.get("branches", [])
        ]
        lines += [
            f"- 联系点指导：{g['cadre']} 到 {g['branch_name']} {g['visits']} 次"
            for g in content.get("guidance", [])
        ]
        return "\n".join(lines)
    if release_type == "round_results":
        return "\n".join(
            f"- {r['subject_name']}：满意率 {zh.percent(r['satisfaction_rate'])}"
            for r in content.get("results", [])
        )
    return subject


def sign_webhook(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Standard Webhooks: v1,<base64 HMAC-SHA256 over "id.timestamp.body">."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def dingtalk_url(target: str, secret: str | None, now_ms: int) -> str:
    """DingTalk's signed robot URL: timestamp and sign = base64 HMAC-SHA256 of
    "timestamp\\nsecret" keyed by the secret, URL-encoded."""
    if not secret:
        return target
    digest = hmac.new(secret.encode(), f"{now_ms}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    return f"{target}{'&' if '?' in target else '?'}timestamp={now_ms}&sign={sign}"


async def _robot(http: httpx.AsyncClient, url: str, body: dict[str, Any]) -> int:
    response = await http.post(url, json=body)
    if response.status_code >= 300:
        raise DeliveryFailed(f"HTTP {response.status_code}")
    answer = response.json()
    if answer.get("errcode", 0) != 0:  # robots answer 200 with an error code
        raise DeliveryFailed(f"errcode {answer.get('errcode')}: {answer.get('errmsg')}")
    return response.status_code


async def send(
    channel: dict[str, Any],
    delivery: dict[str, Any],
    settings: DeliverySettings,
    http: httpx.AsyncClient,
) -> int:
    kind, subject = channel["kind"], delivery["subject"]
    content = delivery["content"]
    text = text_of(delivery["release_type"], subject, content)
    if settings.public_url:
        text += f"\n\n详情：{settings.public_url.rstrip('/')}/townships/{delivery['township_id']}"
    if kind == "wecom":
        return await _robot(
            http,
            channel["target"],
            {"msgtype": "markdown", "markdown": {"content": f"### {subject}\n{text}"}},
        )
    if kind == "dingtalk":
        url = dingtalk_url(channel["target"], channel["secret"], int(time.time() * 1000))
        markdown = {"title": subject, "text": f"### {subject}\n{text}"}
        return await _robot(http, url, {"msgtype": "markdown", "markdown": markdown})
    if kind == "webhook":
        payload = {
            "type": delivery["release_type"],
            "timestamp": delivery["updated_at"].isoformat(),
            "data": {
                "id": delivery["release_id"],
                "township_id": delivery["township_id"],
                "subject": subject,
                "content": content,
            },
        }
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        stamp = int(time.time())
        message_id = delivery["delivery_id"]  # the same on every retry: receivers de-duplicate
        response = await http.post(
            channel["target"],
            content=body,
            headers={
                "content-type": "application/json",
                "webhook-id": message_id,
                "webhook-timestamp": str(stamp),
                "webhook-signature": sign_webhook(channel["secret"], message_id, stamp, body),
            },
        )
        if response.status_code >= 300:
            raise DeliveryFailed(f"HTTP {response.status_code}")
        return response.status_code
    message = EmailMessage()
    message["From"] = settings.smtp_sender
    message["To"] = channel["target"]
    message["Subject"] = subject
    message.set_content(text)
    await aiosmtplib.send(
        message,
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        start_tls=settings.smtp_starttls,
        timeout=10,
    )
    return 250


SMS_VALUE = 35  # Alibaba's limit on one template variable's value, in characters


def sms_params(content: dict[str, Any]) -> dict[str, str]:
    """A notice's template variables, in this order (Tencent numbers them {1}, {2}): `title`,
    what is due, without the 【提醒】/【逾期】 prefix (brackets belong to the signature alone),
    and `due_on`, the date it is due (2027-03-15)."""
    title = re.sub(r"^【[^】]*】", "", str(content["title"])).replace("【", "").replace("】", "")
    return {"title": title[:SMS_VALUE], "due_on": str(content["due_on"])}


async def send_sms(gateway: SmsGateway, phone: str, delivery: dict[str, Any]) -> int:
    """A reminder or overdue notice by SMS: the template configured for its kind, under the
    channel's approved signature (its target)."""
    await gateway.send(
        phone,
        delivery["release_type"],
        sms_params(delivery["content"]),
        sign_name=delivery["target"],
    )
    return 200
