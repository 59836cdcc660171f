"""The SMS providers' signatures against their documentation's worked examples, the error
codes' mapping, settings and masking (shared/sms.py). The gateways against a local server
that verifies the signatures: tests/integration/test_sms_gateway.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from shared.sms import (
    AliyunSms,
    SmsError,
    SmsSettings,
    TencentSms,
    aliyun_retryable,
    aliyun_signature,
    aliyun_string_to_sign,
    e164,
    gateway_from_settings,
    scrub,
    tc3_canonical_request,
    tc3_signature,
    tencent_retryable,
)


def test_aliyun_signature_of_the_documented_example() -> None:
    """Alibaba Cloud SMS, "HTTP协议及签名" (help.aliyun.com/document_detail/56189): the
    example request with AccessKeyId testId and secret testSecret signs as zJDF+Lrzhj/…"""
    params = {
        "AccessKeyId": "testId",
        "Action": "SendSms",
        "Format": "XML",
        "OutId": "123",
        "PhoneNumbers": "15300000001",
        "RegionId": "cn-hangzhou",
        "SignName": "阿里云短信测试专用",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
        "SignatureVersion": "1.0",
        "TemplateCode": "SMS_71390007",
        "TemplateParam": '{"customer":"test"}',
        "Timestamp": "2017-07-12T02:42:19Z",
        "Version": "2017-05-25",
    }
    to_sign = aliyun_string_to_sign("GET", params)
    assert to_sign.startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML")
    assert "SignName%3D%25E9%2598%25BF%25E9%2587%258C" in to_sign  # UTF-8, encoded twice
    assert "Timestamp%3D2017-07-12T02%253A42%253A19Z" in to_sign
    assert aliyun_signature("testSecret", "GET", params) == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert aliyun_signature("testsecret", "GET", params) != "zJDF+Lrzhj/ThnlvIToysFRq6t4="


def test_tc3_signature_of_the_documented_example() -> None:
    """Tencent Cloud API "Signature v3": the CVM DescribeInstances example (timestamp
    1551113065, the documented SecretKey as printed) signs as 2230eefd…"""
    payload = (
        b'{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'
    )
    canonical = tc3_canonical_request(
        "cvm.tencentcloudapi.com", "application/json; charset=utf-8", payload
    )
    assert canonical == (
        "POST\n/\n\ncontent-type:application/json; charset=utf-8\n"
        "host:cvm.tencentcloudapi.com\n\ncontent-type;host\n"
        "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
    )
    scope, signature = tc3_signature(
        "Gu5t9xGARNpq86cd98joQYCN3*******", "cvm", 1551113065, canonical
    )
    assert scope == "2019-02-25/cvm/tc3_request"
    assert signature == "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("OK", True),  # never asked; an unknown code is retried, then given up visibly
        ("isv.BUSINESS_LIMIT_CONTROL", True),
        ("isv.AMOUNT_NOT_ENOUGH", True),
        ("isp.SYSTEM_ERROR", True),
        ("Throttling.User", True),
        ("SignatureNonceUsed", True),
        ("InvalidTimeStamp.Expired", True),
        ("isv.MOBILE_NUMBER_ILLEGAL", False),
        ("isv.SMS_TEMPLATE_ILLEGAL", False),
        ("isv.SMS_SIGNATURE_ILLEGAL", False),
        ("isv.TEMPLATE_MISSING_PARAMETERS", False),
        ("SignatureDoesNotMatch", False),
        ("InvalidAccessKeyId.NotFound", False),
    ],
)
def test_aliyun_codes_are_retryable_or_permanent(code: str, retryable: bool) -> None:
    assert aliyun_retryable(code) is retryable


@pytest.mark.parametrize(
    ("code", "retryable"),
    [
        ("InternalError.Timeout", True),
        ("RequestLimitExceeded", True),
        ("LimitExceeded.PhoneNumberDailyLimit", True),
        ("FailedOperation.InsufficientBalanceInSmsPackage", True),
        ("AuthFailure.SignatureExpire", True),
        ("AuthFailure.SignatureFailure", False),
        ("AuthFailure.SecretIdNotFound", False),
        ("InvalidParameterValue.IncorrectPhoneNumber", False),
        ("FailedOperation.PhoneNumberInBlacklist", False),
        ("FailedOperation.TemplateIncorrectOrUnapproved", False),
        ("UnauthorizedOperation.SmsSdkAppIdVerifyFail", False),
        ("SomethingNew", True),
    ],
)
def test_tencent_codes_are_retryable_or_permanent(code: str, retryable: bool) -> None:
    assert tencent_retryable(code) is retryable


def test_phone_numbers_are_masked_in_provider_messages() -> None:
    assert scrub("手机号码13812340000格式错误") == "手机号码138****0000格式错误"
    assert scrub("+8613812340000 is blacklisted") == "+86*******0000 is blacklisted"
    error = SmsError("isv.MOBILE_NUMBER_ILLEGAL", "13812340000", retryable=False)
    assert "13812340000" not in str(error)
    assert e164("138 1234-0000") == "+8613812340000"
    assert e164("+85261234567") == "+85261234567"
    assert e164("0085261234567") == "+85261234567"


def test_settings_read_the_secret_from_a_file_and_never_show_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert gateway_from_settings(SmsSettings()) is None  # no account, no SMS
    secret = tmp_path / "sms-secret"
    secret.write_text("s3cr3t-value\n")
    monkeypatch.setenv("GONGKAI_SMS_PROVIDER", "aliyun")
    monkeypatch.setenv("GONGKAI_SMS_ACCESS_KEY_ID", "LTAI-id")
    monkeypatch.setenv("GONGKAI_SMS_ACCESS_KEY_SECRET_FILE", str(secret))
    monkeypatch.setenv("GONGKAI_SMS_SIGN_NAME", "民勤县委组织部")
    monkeypatch.setenv("GONGKAI_SMS_TEMPLATES", '{"reminder": "SMS_1", "overdue": "SMS_2"}')
    gateway = gateway_from_settings(SmsSettings())
    assert isinstance(gateway, AliyunSms)
    assert gateway.secret == "s3cr3t-value"
    assert gateway.templates == {"reminder": "SMS_1", "overdue": "SMS_2"}
    assert "s3cr3t" not in repr(gateway)
    monkeypatch.setenv("GONGKAI_SMS_PROVIDER", "tencent")
    with pytest.raises(ValidationError, match="GONGKAI_SMS_APP_ID"):
        SmsSettings()
    monkeypatch.setenv("GONGKAI_SMS_APP_ID", "1400000001")
    monkeypatch.delenv("GONGKAI_SMS_ACCESS_KEY_SECRET_FILE")
    monkeypatch.setenv("GONGKAI_SMS_ACCESS_KEY_SECRET", "from-env")
    settings = SmsSettings()
    assert "from-env" not in repr(settings)
    tencent = gateway_from_settings(settings)
    assert isinstance(tencent, TencentSms)
    assert tencent.secret == "from-env"
