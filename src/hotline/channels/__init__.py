"""Digital channels: web chat, e-mail, WeChat and SMS, beside voice."""
