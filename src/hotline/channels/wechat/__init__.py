"""The WeChat official account channel: followers' messages become chat conversations."""
