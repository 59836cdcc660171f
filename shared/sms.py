"""Text messages through the SMS services counties use: Alibaba Cloud SMS (dysmsapi
`SendSms`, the RPC signature HMAC-SHA1) and Tencent Cloud SMS (`SendSms` 2021-01-11,
TC3-HMAC-SHA256), over httpx.

The providers' SDKs are not used: Alibaba's (alibabacloud_dysmsapi20170525) brings 29 wheels,
9 MB (aiohttp, APScheduler, websocket-client, ...), Tencent's is synchronous (requests) and
would block the event loop. Each signature is a few lines of the providers' documented
algorithm, checked against their documentation's worked examples
(tests/unit/test_sms.py) and by a local server that verifies it independently
(tests/support/sms_provider.py).

A message is a provider template (approved in advance, as Chinese regulation requires) with
named parameters: `send(phone, kind, params)` sends the template configured for `kind`
(`GONGKAI_SMS_TEMPLATES`, e.g. {"reminder": "SMS_123", "overdue": "SMS_456"}); Tencent's
templates number their parameters, so they go in the order given. A failure is an
`SmsError`, retryable (throttling, the provider's own faults, an empty balance, the network)
or permanent (a wrong number, template or key: retrying would fail the same way). A phone
number never appears in a log line or an error (138****0000), nor the secret anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NoReturn, Protocol
from urllib.parse import quote

import httpx
import structlog
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.personal import mask_phone

log = structlog.get_logger()

ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
TENCENT_ENDPOINT = "https://sms.tencentcloudapi.com/"
TENCENT_VERSION = "2021-01-11"


class SmsSettings(BaseSettings):
    """The deployment's SMS account (N5); none configured, no SMS is sent."""

    model_config = SettingsConfigDict(env_prefix="GONGKAI_", extra="ignore")

    sms_provider: Literal["aliyun", "tencent"] | None = None
    sms_access_key_id: str | None = None  # Alibaba AccessKey ID, Tencent SecretId
    sms_access_key_secret: SecretStr | None = None  # or, better, the file below
    sms_access_key_secret_file: Path | None = None
    sms_sign_name: str | None = None  # the approved signature (【…】), unless a channel names one
    sms_app_id: str | None = None  # Tencent's SmsSdkAppId
    sms_region: str | None = None  # cn-hangzhou (Alibaba), ap-guangzhou (Tencent) by default
    sms_endpoint: str | None = None  # another address: a private cloud, the tests' server
    sms_templates: dict[str, str] = Field(default_factory=dict)  # kind -> template id

    @model_validator(mode="after")
    def _complete(self) -> SmsSettings:
        if self.sms_provider is None:
            return self
        missing = [
            name
            for name, value in (("GONGKAI_SMS_ACCESS_KEY_ID", self.sms_access_key_id),)
            if not value
        ]
        if self.sms_access_key_secret is None and self.sms_access_key_secret_file is None:
            missing.append("GONGKAI_SMS_ACCESS_KEY_SECRET_FILE")
        if self.sms_provider == "tencent" and not self.sms_app_id:
            missing.append("GONGKAI_SMS_APP_ID")
        if missing:
            raise ValueError(f"GONGKAI_SMS_PROVIDER is set: set {', '.join(missing)} too")
        return self

    def secret(self) -> str:
        if self.sms_access_key_secret_file is not None:
            return self.sms_access_key_secret_file.read_text(encoding="utf-8").strip()
        assert self.sms_access_key_secret is not None
        return self.sms_access_key_secret.get_secret_value()


class SmsError(Exception):
    """A message not sent: the provider's code, and whether trying again later may help."""

    def __init__(self, code: str, message: str, *, retryable: bool) -> None:
        super().__init__(f"{code}: {scrub(message)}")
        self.code = code
        self.retryable = retryable


class SmsGateway(Protocol):
    async def send(
        self, phone: str, template: str, params: dict[str, str], *, sign_name: str | None = None
    ) -> None:
        """Send the template configured for the message kind `template`, under the approved
        signature `sign_name` (the configured one if None); `SmsError` if it is not sent."""
        ...


PHONE_LIKE = re.compile(r"\+?\d{7,}")


def scrub(text: str) -> str:
    """A provider's message with any phone number in it masked."""
    return PHONE_LIKE.sub(lambda m: mask_phone(m.group()), text)


def _digits(phone: str) -> str:
    return re.sub(r"[\s-]", "", phone)


# --- Alibaba Cloud: the RPC signature (SignatureVersion 1.0, HMAC-SHA1) -------------------


def aliyun_encode(value: str) -> str:
    """Percent-encoding as the signature wants it: RFC 3986 unreserved characters kept,
    everything else %XX of its UTF-8 bytes (a space is %20, `*` is %2A, `~` stays)."""
    return quote(value, safe="-_.~")


def aliyun_string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{aliyun_encode(k)}={aliyun_encode(v)}" for k, v in sorted(params.items())
    )
    return f"{method}&{aliyun_encode('/')}&{aliyun_encode(canonical)}"


def aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    """base64 HMAC-SHA1 of the string to sign, keyed by the AccessKey secret and "&"."""
    string_to_sign = aliyun_string_to_sign(method, params)
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# Alibaba's codes that a later attempt may get past; others are permanent, unknown ones retried
ALIYUN_RETRYABLE = (
    "isp.",  # the platform's own faults
    "Throttling",
    "ServiceUnavailable",
    "InternalError",
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number rate limits
    "isv.DAY_LIMIT_CONTROL",
    "isv.AMOUNT_NOT_ENOUGH",  # the account's balance: topped up, it goes
    "isv.OUT_OF_SERVICE",
    "SignatureNonceUsed",
    "InvalidTimeStamp",
)
ALIYUN_PERMANENT = (
    "isv.",  # a wrong number, template, signature or parameter, after the above
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "Forbidden",
    "MissingParameter",
    "InvalidParameter",
    "IncompleteSignature",
)


def aliyun_retryable(code: str) -> bool:
    if code.startswith(ALIYUN_RETRYABLE):
        return True
    return not code.startswith(ALIYUN_PERMANENT)


@dataclass
class AliyunSms:
    access_key_id: str
    secret: str = field(repr=False)
    sign_name: str | None
    templates: dict[str, str]
    http: httpx.AsyncClient
    endpoint: str = ALIYUN_ENDPOINT
    region: str = "cn-hangzhou"

    async def send(
        self, phone: str, template: str, params: dict[str, str], *, sign_name: str | None = None
    ) -> None:
        sign = _sign(sign_name or self.sign_name)
        query = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "RegionId": self.region,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": str(uuid.uuid4()),
            "SignatureVersion": "1.0",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
            "PhoneNumbers": _digits(phone),
            "SignName": sign,
            "TemplateCode": _template(self.templates, template),
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
        }
        query["Signature"] = aliyun_signature(self.secret, "POST", query)
        answer = await _post(self.http, self.endpoint, data=query)
        code = str(answer.get("Code", "Unknown"))
        if code != "OK":
            _fail("aliyun", phone, template, code, str(answer.get("Message", "")))
        _sent("aliyun", phone, template)


# --- Tencent Cloud: TC3-HMAC-SHA256 --------------------------------------------------------


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def tc3_canonical_request(host: str, content_type: str, payload: bytes) -> str:
    """POST to /, no query string, signing the content-type and host headers."""
    headers = f"content-type:{content_type}\nhost:{host}\n"
    return f"POST\n/\n\n{headers}\ncontent-type;host\n{_sha256(payload)}"


def tc3_signature(
    secret_key: str, service: str, timestamp: int, canonical_request: str
) -> tuple[str, str]:
    """The credential scope ("2019-02-25/cvm/tc3_request") and the hex signature."""
    day = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    scope = f"{day}/{service}/tc3_request"
    string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical_request.encode())}"
    key = _hmac(_hmac(_hmac(f"TC3{secret_key}".encode(), day), service), "tc3_request")
    return scope, hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


# Tencent's codes: `LimitExceeded.*` (per-number and per-day limits), the platform's faults,
# an empty package and a clock out of step are retried; parameters, keys, templates and
# numbers are permanent; unknown codes are retried
TENCENT_RETRYABLE = (
    "InternalError",
    "RequestLimitExceeded",
    "LimitExceeded",
    "ResourceUnavailable",
    "FailedOperation.InsufficientBalanceInSmsPackage",
    "AuthFailure.SignatureExpire",
)
TENCENT_PERMANENT = (
    "AuthFailure",
    "InvalidParameter",
    "MissingParameter",
    "UnauthorizedOperation",
    "UnsupportedOperation",
    "FailedOperation",
    "UnknownParameter",
)


def tencent_retryable(code: str) -> bool:
    if code.startswith(TENCENT_RETRYABLE):
        return True
    return not code.startswith(TENCENT_PERMANENT)


def e164(phone: str) -> str:
    """Tencent wants +<country><number>; a mainland mobile number without one is +86."""
    digits = _digits(phone)
    if digits.startswith("+"):
        return digits
    if digits.startswith("00"):
        return "+" + digits[2:]
    return f"+86{digits}"


@dataclass
class TencentSms:
    secret_id: str
    secret: str = field(repr=False)
    sign_name: str | None
    app_id: str
    templates: dict[str, str]
    http: httpx.AsyncClient
    endpoint: str = TENCENT_ENDPOINT
    region: str = "ap-guangzhou"

    async def send(
        self, phone: str, template: str, params: dict[str, str], *, sign_name: str | None = None
    ) -> None:
        sign = _sign(sign_name or self.sign_name)
        payload = json.dumps(
            {
                "PhoneNumberSet": [e164(phone)],
                "SmsSdkAppId": self.app_id,
                "SignName": sign,
                "TemplateId": _template(self.templates, template),
                "TemplateParamSet": list(params.values()),
                "SessionContext": secrets.token_hex(8),
            },
            ensure_ascii=False,
        ).encode()
        host = httpx.URL(self.endpoint).netloc.decode()
        content_type = "application/json; charset=utf-8"
        stamp = int(time.time())
        canonical = tc3_canonical_request(host, content_type, payload)
        scope, signature = tc3_signature(self.secret, "sms", stamp, canonical)
        headers = {
            "Authorization": f"TC3-HMAC-SHA256 Credential={self.secret_id}/{scope},"
            f" SignedHeaders=content-type;host, Signature={signature}",
            "Content-Type": content_type,
            "Host": host,
            "X-TC-Action": "SendSms",
            "X-TC-Timestamp": str(stamp),
            "X-TC-Version": TENCENT_VERSION,
            "X-TC-Region": self.region,
        }
        answer = (await _post(self.http, self.endpoint, content=payload, headers=headers)).get(
            "Response", {}
        )
        if error := answer.get("Error"):
            _fail("tencent", phone, template, str(error.get("Code")), str(error.get("Message")))
        statuses = answer.get("SendStatusSet") or [{"Code": "Unknown", "Message": "no status"}]
        status = statuses[0]
        if status.get("Code") != "Ok":
            _fail("tencent", phone, template, str(status.get("Code")), str(status.get("Message")))
        _sent("tencent", phone, template)


# --- both ----------------------------------------------------------------------------------


def _sign(sign_name: str | None) -> str:
    if not sign_name:
        raise SmsError(
            "NoSignName", "no approved signature (GONGKAI_SMS_SIGN_NAME)", retryable=False
        )
    return sign_name


def _template(templates: dict[str, str], kind: str) -> str:
    if kind not in templates:
        raise SmsError(
            "NoTemplate", f"GONGKAI_SMS_TEMPLATES has no template for {kind!r}", retryable=False
        )
    return templates[kind]


async def _post(http: httpx.AsyncClient, url: str, **request: Any) -> dict[str, Any]:
    try:
        response = await http.post(url, **request)
    except httpx.HTTPError as error:
        raise SmsError("Network", type(error).__name__, retryable=True) from None
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise SmsError(f"HTTP{response.status_code}", "not JSON", retryable=True)
    return answer


def _fail(provider: str, phone: str, template: str, code: str, message: str) -> NoReturn:
    retryable = aliyun_retryable(code) if provider == "aliyun" else tencent_retryable(code)
    log.warning(
        "sms_failed",
        provider=provider,
        to=mask_phone(_digits(phone)),
        template=template,
        provider_code=code,
        retryable=retryable,
    )
    raise SmsError(code, message, retryable=retryable)


def _sent(provider: str, phone: str, template: str) -> None:
    log.info("sms_sent", provider=provider, to=mask_phone(_digits(phone)), template=template)


def gateway_from_settings(
    settings: SmsSettings, http: httpx.AsyncClient | None = None
) -> SmsGateway | None:
    """The configured provider's gateway, or None when no SMS account is configured."""
    if settings.sms_provider is None:
        return None
    client = http or httpx.AsyncClient(timeout=10)
    assert settings.sms_access_key_id
    if settings.sms_provider == "aliyun":
        return AliyunSms(
            access_key_id=settings.sms_access_key_id,
            secret=settings.secret(),
            sign_name=settings.sms_sign_name,
            templates=dict(settings.sms_templates),
            http=client,
            endpoint=settings.sms_endpoint or ALIYUN_ENDPOINT,
            region=settings.sms_region or "cn-hangzhou",
        )
    assert settings.sms_app_id
    return TencentSms(
        secret_id=settings.sms_access_key_id,
        secret=settings.secret(),
        sign_name=settings.sms_sign_name,
        app_id=settings.sms_app_id,
        templates=dict(settings.sms_templates),
        http=client,
        endpoint=settings.sms_endpoint or TENCENT_ENDPOINT,
        region=settings.sms_region or "ap-guangzhou",
    )
