"""A WeChat official account's settings as an administrator enters them, checked first.

The values come from the account's page on the WeChat platform (公众平台 → 设置与开发 →
基本配置): the AppID, the AppSecret (for the customer-service message API), and the server
configuration's Token and EncodingAESKey. Each problem names its field and the rule broken;
the API answers 422 with them.
"""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator

APP_ID = r"^wx[0-9A-Za-z]{16}$"
TOKEN = r"^[0-9A-Za-z]{3,32}$"
ENCODING_AES_KEY = r"^[0-9A-Za-z]{43}$"
WECHAT_API = "https://api.weixin.qq.com"


class WeChatSettings(BaseModel):
    """One official account: how its pushes are checked and where its replies go.

    >>> WeChatSettings(app_id="wx5823bf96d3bd56c7", token="QDG6eK", queue="chat").safe_mode
    False
    """

    app_id: str = Field(pattern=APP_ID, description="The account's AppID (wx + 16 characters).")
    token: str | None = Field(
        None, pattern=TOKEN, description="The server configuration's Token. Write-only."
    )
    encoding_aes_key: str | None = Field(
        None,
        pattern=ENCODING_AES_KEY,
        description="EncodingAESKey (43 characters) for safe mode; empty: plain mode. Write-only.",
    )
    app_secret: str | None = Field(
        None, max_length=64, description="The AppSecret the message API needs. Write-only."
    )
    queue: str = Field(min_length=1, max_length=64, description="The chat queue of followers.")
    api_base: str = Field(WECHAT_API, max_length=255, description="The message API's address.")
    active: bool = True

    @field_validator("api_base")
    @classmethod
    def _http(cls, value: str) -> str:
        value = value.rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) address such as https://api.weixin.qq.com")
        return value

    @property
    def safe_mode(self) -> bool:
        """Whether pushes are encrypted (an EncodingAESKey is given)."""
        return bool(self.encoding_aes_key)
